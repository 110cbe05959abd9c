import type { Dispatcher } from "undici";
import { serializeV1Event, serializeV2Event } from "./collector/serializers.js";
import { datasetteRowSerializer } from "../row/datasette-row.js";
import type { Serializer } from "../row/event-input.js";
import type { ResolvedOptions } from "../config/options.js";
import { collectorSink } from "./collector/sink.js";
import { datasetteSink } from "./datasette/sink.js";
import type { Sink } from "../pipeline/sink.js";
import { sqliteSink } from "./sqlite/sink.js";

/** The store the options point at. Each kind of store adds its case here. */
export function createSink(o: ResolvedOptions, dispatcher: Dispatcher): Sink {
  if (!o.publisher) return spoolWriterSink;
  if (o.collector !== undefined) return collectorSink({ collector: o.collector, requestTimeoutMs: o.requestTimeoutMs, dispatcher });
  if (o.apiUrl !== undefined) {
    return datasetteSink({ apiUrl: o.apiUrl, apiToken: o.apiToken, table: o.table, requestTimeoutMs: o.requestTimeoutMs, dispatcher });
  }
  if (o.database !== undefined) return sqliteSink({ path: o.database, table: o.table });
  throw new Error("resolveOptions() let through options without a store");
}

/** What put() turns events into when option serializer is not given: what that store reads. */
export function defaultSerializer(o: ResolvedOptions): Serializer {
  if (o.collector !== undefined) return o.collector.version === "1" ? serializeV1Event : serializeV2Event;
  return datasetteRowSerializer(o.instance);
}

/**
 * A process with `publisher: false` has no store: its spool never lets it take events (it never
 * holds the lease), so this is never asked to send.
 */
const spoolWriterSink: Sink = {
  description: "the spool's publisher (this process only writes: publisher false)",
  send: async () => ({ ok: false, retry: true, reason: "this process only writes to the spool (option publisher is false)" }),
};
