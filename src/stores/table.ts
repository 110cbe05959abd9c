import type { Transport } from "./transport.js";
import type { EventsForwardOptions, ResolvedOptions, StoreName } from "../config/options.js";
import type { Sink } from "../pipeline/sink.js";
import type { QueuedEventMaker } from "../row/queued.js";
import type { RowCheck } from "../row/row-check.js";
import { collectorStore } from "./collector/kind.js";
import { datasetteStore } from "./datasette/kind.js";
import type { StoreKind } from "./kind.js";
import { spoolWriterSink } from "./spool-writer-sink.js";
import { sqliteStore } from "./sqlite/kind.js";

/**
 * The table of store kinds. Adding a store is one folder (its sink, its options, its kind.ts),
 * one entry here and its line in config/options.ts's StoreParts; the options, the root and the
 * sidecar read only this table. The order is the order storeOf() asks in: the first store the
 * options name is the store; the embedded store, which says yes to any options, stays last.
 */
export const STORE_KINDS: { readonly [S in StoreName]: StoreKind<S> } = {
  collector: collectorStore,
  datasette: datasetteStore,
  sqlite: sqliteStore,
};

/** Which store the options name: the collector, Datasette (apiUrl), or else the embedded SQLite file. */
export function storeOf(o: EventsForwardOptions): StoreName {
  for (const [name, kind] of storeKinds()) if (kind.chosenBy(o)) return name;
  return "sqlite";
}

/** The table's entries, typed. */
export function storeKinds(): [StoreName, StoreKind<StoreName>][] {
  return (Object.keys(STORE_KINDS) as StoreName[]).map((name) => [name, STORE_KINDS[name]]);
}

/** The sink the options point at; a process that only writes to a spool gets none that sends. */
export function createSink<S extends StoreName>(o: ResolvedOptions<S>, transport: Transport): Sink {
  const kind: StoreKind<S> = STORE_KINDS[o.store];
  return o.publisher ? kind.sink(o, transport) : spoolWriterSink;
}

/** What an event's text must be before it joins a batch body, for the options' store. */
export function rowCheckOf<S extends StoreName>(o: ResolvedOptions<S>): RowCheck {
  const kind: StoreKind<S> = STORE_KINDS[o.store];
  return kind.rowCheck(o);
}

/** How put() makes the queued events for the options' store. */
export function queuedEventsOf<S extends StoreName>(o: ResolvedOptions<S>): QueuedEventMaker {
  const kind: StoreKind<S> = STORE_KINDS[o.store];
  return kind.queuedEvents(o);
}
