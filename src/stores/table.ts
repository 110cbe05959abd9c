import type { Transport } from "./transport.js";
import type { ResolvedOptions } from "../config/options.js";
import type { Sink } from "../pipeline/sink.js";
import { collectorStore } from "./collector/kind.js";
import { datasetteStore } from "./datasette/kind.js";
import type { StoreKind } from "./kind.js";
import { sqliteStore } from "./sqlite/kind.js";

/**
 * The table of store kinds. Adding a store is one folder (its sink, its options, its kind.ts)
 * and one entry here, plus the option that names it in storeOf(); the options, the root and the
 * sidecar read only this table.
 */
export const STORE_KINDS = {
  datasette: datasetteStore,
  collector: collectorStore,
  sqlite: sqliteStore,
} satisfies Record<string, StoreKind>;

export type StoreName = keyof typeof STORE_KINDS;

/** Which store the options name: the collector, Datasette (apiUrl), or else the embedded SQLite file. */
export function storeOf(o: { apiUrl?: unknown; collector?: unknown; publisher?: unknown }): StoreName {
  if (o.collector !== undefined) return "collector";
  // A process that only writes to the spool has no store of its own: it writes Datasette rows.
  if (o.apiUrl !== undefined || o.publisher === false) return "datasette";
  return "sqlite";
}

/** The sink the options point at; a process that only writes to a spool gets none that sends. */
export function createSink(o: ResolvedOptions, transport: Transport): Sink {
  return o.publisher ? STORE_KINDS[o.store].sink(o, transport) : spoolWriterSink;
}

/**
 * A process with `publisher: false` has no store: its spool never lets it take events (it never
 * holds the lease), so this is never asked to send.
 */
const spoolWriterSink: Sink = {
  description: "the spool's publisher (this process only writes: publisher false)",
  send: async () => ({
    ok: false,
    retry: true,
    reason: "this process only writes to the spool (option publisher is false)",
  }),
};
