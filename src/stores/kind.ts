import type { Transport } from "./transport.js";
import type { ResolvedOptions } from "../config/options.js";
import type { Defaults } from "../config/defaults.js";
import type { Sink } from "../pipeline/sink.js";
import type { QueuedEventMaker } from "../row/queued.js";
import type { Serializer } from "../row/event-input.js";

/**
 * One kind of store: everything the options, the root and the sidecar need to know of it. Each
 * store folder exports one; stores/table.ts lists them.
 */
export interface StoreKind {
  /** Its defaults where they differ from DEFAULTS (config/defaults.ts SINK_DEFAULTS); merged over them once, for every option. */
  readonly defaults: Partial<Defaults>;
  /** The most events one batch may carry (the upper bound of batchLimit). */
  readonly maxBatchLimit: number;
  /** What put() turns events into when option serializer is not given (exported as a serializer too). */
  serializer(o: ResolvedOptions): Serializer;
  /** How put() makes the queued events. */
  queuedEvents(o: ResolvedOptions): QueuedEventMaker;
  /** The sink that delivers to it. */
  sink(o: ResolvedOptions, transport: Transport): Sink;
  /** Keys of an `[event-publisher:NAME]` section that only this store reads, as written there, and the option each sets. */
  readonly iniKeys: Readonly<Record<string, string>>;
}
