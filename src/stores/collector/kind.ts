import { jsonObjectCheck } from "../../row/row-check.js";
import { LIMITS, SINK_DEFAULTS } from "../../config/defaults.js";
import { serializedEvents } from "../../row/queued.js";
import type { StoreKind } from "../kind.js";
import { COLLECTOR_CONFIG_KEYS, collectorOptionsFromConfig } from "./ini.js";
import { COLLECTOR_STORE_OPTIONS, resolveCollectorStore } from "./options.js";
import { serializeV1Event, serializeV2Event } from "./serializers.js";
import { collectorSink } from "./sink.js";

/** A baseplate-style event collector (option collector). */
export const collectorStore: StoreKind<"collector"> = {
  chosenBy: (o) => o.collector !== undefined,
  defaults: SINK_DEFAULTS.collector,
  maxBatchLimit: LIMITS.maxCollectorBatch,
  options: COLLECTOR_STORE_OPTIONS,
  resolve: resolveCollectorStore,
  // Option collector given makes the collector the store: never checked as another store's.
  unchosen: () => {},
  serializer: (o) => (o.collector.version === "1" ? serializeV1Event : serializeV2Event),
  rowCheck: () => jsonObjectCheck,
  queuedEvents: (o) => serializedEvents(o.serializer ?? collectorStore.serializer(o)),
  sink: (o, transport) => collectorSink({ collector: o.collector, requestTimeoutMs: o.requestTimeoutMs, transport }),
  ini: {
    keys: Object.fromEntries(Object.entries(COLLECTOR_CONFIG_KEYS).map(([key, field]) => [key, `collector.${field}`])),
    // collector.hostname → hostname, key.secret → keySecret, ...
    read: (section, sectionName) => {
      const value = collectorOptionsFromConfig(section, sectionName);
      return value === undefined ? undefined : { option: "collector", value };
    },
  },
};
