import type { Dispatcher } from "undici";
import { serializeV1Event, serializeV2Event } from "../collector/serializers.js";
import { datasetteRowSerializer, type Serializer } from "../event.js";
import type { ResolvedOptions } from "../options.js";
import { collectorSink } from "./collector.js";
import { datasetteSink } from "./datasette.js";
import type { Sink } from "./sink.js";

/** The store the options point at. Each kind of store adds its case here. */
export function createSink(o: ResolvedOptions, dispatcher: Dispatcher): Sink {
  if (o.collector !== undefined) return collectorSink({ collector: o.collector, requestTimeoutMs: o.requestTimeoutMs, dispatcher });
  if (o.apiUrl !== undefined) {
    return datasetteSink({ apiUrl: o.apiUrl, apiToken: o.apiToken, table: o.table, requestTimeoutMs: o.requestTimeoutMs, dispatcher });
  }
  throw new Error("resolveOptions() let through options without a store");
}

/** What put() turns events into when option serializer is not given: what that store reads. */
export function defaultSerializer(o: ResolvedOptions): Serializer {
  if (o.collector !== undefined) return o.collector.version === "1" ? serializeV1Event : serializeV2Event;
  return datasetteRowSerializer(o.instance);
}
