import type { Transport } from "./transport.js";
import type { OptionReader } from "../core/checks.js";
import type { OptionDeclaration } from "../core/option-spec.js";
import type { EventsForwardOptions, ResolvedFor, ResolvedGeneral, StoreName, StoreParts } from "../config/options.js";
import type { Defaults } from "../config/option-defaults.js";
import type { Sink } from "../pipeline/sink.js";
import type { QueuedEventMaker } from "../row/queued.js";
import type { Serializer } from "../row/event-input.js";
import type { RowCheck } from "../row/row-check.js";

/**
 * One kind of store: everything the options, the root and the sidecar need to know of it. Each
 * store folder exports one (its kind.ts); stores/table.ts lists them.
 */
export interface StoreKind<S extends StoreName> {
  /** Whether the options name this store; the table is asked in its order, the first yes wins. */
  chosenBy(o: EventsForwardOptions): boolean;
  /** Its defaults where they differ from DEFAULTS (config/defaults.ts SINK_DEFAULTS); merged over them once, for every option. */
  readonly defaults: Partial<Defaults>;
  /** The most events one batch may carry (the upper bound of batchLimit). */
  readonly maxBatchLimit: number;
  /** Its own options (stores/<store>/options.ts): their doc rows, defaults and how the INI reads them. */
  readonly options: Readonly<Record<string, OptionDeclaration>>;
  /** Checks its own options once it is the store, after the general ones: what it adds to the resolved options. */
  resolve(read: OptionReader, general: ResolvedGeneral): StoreParts[S];
  /** Checks its own options when another store is the one (given anyway, they must still be valid or absent). */
  unchosen(read: OptionReader): void;
  /** What put() turns events into when option serializer is not given (exported as a serializer too). */
  serializer(o: ResolvedFor<S>): Serializer;
  /** What an event's text must be before it joins a batch body (text read from a spool, a serializer's answer). */
  rowCheck(o: ResolvedFor<S>): RowCheck;
  /** How put() makes the queued events. */
  queuedEvents(o: ResolvedFor<S>): QueuedEventMaker;
  /** The sink that delivers to it. */
  sink(o: ResolvedFor<S>, transport: Transport): Sink;
  /** Keys of an `[event-publisher:NAME]` section that only this store reads, beyond its options' own keys. */
  readonly ini?: StoreIni;
}

/** A store's own keys in the sidecar's INI section (the collector's `collector.hostname`, `key.secret`, ...). */
export interface StoreIni {
  /** Each key as written there, and the option name errors give for it (`collector.keyName`). */
  readonly keys: Readonly<Record<string, string>>;
  /** The option the keys make, from the keys found (undefined when none is given). */
  read(section: Record<string, unknown>, sectionName: string): { option: string; value: unknown } | undefined;
}
