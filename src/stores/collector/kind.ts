import { LIMITS, SINK_DEFAULTS } from "../../config/defaults.js";
import { serializedEvents } from "../../row/queued.js";
import type { StoreKind } from "../kind.js";
import { COLLECTOR_CONFIG_KEYS } from "./ini.js";
import { serializeV1Event, serializeV2Event } from "./serializers.js";
import { collectorSink } from "./sink.js";

/** A baseplate-style event collector (option collector). */
export const collectorStore: StoreKind = {
  defaults: SINK_DEFAULTS.collector,
  maxBatchLimit: LIMITS.maxCollectorBatch,
  serializer: (o) => (o.collector!.version === "1" ? serializeV1Event : serializeV2Event),
  queuedEvents: (o) => serializedEvents(o.serializer ?? collectorStore.serializer(o)),
  sink: (o, transport) => collectorSink({ collector: o.collector!, requestTimeoutMs: o.requestTimeoutMs, transport }),
  iniKeys: Object.fromEntries(Object.entries(COLLECTOR_CONFIG_KEYS).map(([key, field]) => [key, `collector.${field}`])),
};
