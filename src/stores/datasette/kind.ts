import { LIMITS, SINK_DEFAULTS } from "../../config/defaults.js";
import { datasetteRowSerializer } from "../../row/datasette-row.js";
import { datasetteRowEvents, serializedEvents } from "../../row/queued.js";
import type { StoreKind } from "../kind.js";
import { datasetteSink } from "./sink.js";

/** A Datasette instance's JSON write API (options apiUrl, apiToken, table). */
export const datasetteStore: StoreKind = {
  defaults: SINK_DEFAULTS.datasette,
  maxBatchLimit: LIMITS.maxBatchRows,
  serializer: (o) => datasetteRowSerializer(o.instance),
  queuedEvents: (o) => (o.serializer === undefined ? datasetteRowEvents(o.instance) : serializedEvents(o.serializer)),
  sink: (o, transport) =>
    datasetteSink({
      apiUrl: o.apiUrl!,
      apiToken: o.apiToken,
      table: o.table,
      requestTimeoutMs: o.requestTimeoutMs,
      transport,
    }),
  iniKeys: {},
};
