import { LIMITS, SINK_DEFAULTS } from "../../config/defaults.js";
import { datasetteRowSerializer } from "../../row/datasette-row.js";
import { datasetteRowEvents, serializedEvents } from "../../row/queued.js";
import { datasetteRowCheck, jsonObjectCheck } from "../../row/row-check.js";
import type { StoreKind } from "../kind.js";
import { spoolWriterSink } from "../spool-writer-sink.js";
import { checkApiToken, DATASETTE_OPTIONS, resolveDatasette } from "./options.js";
import { datasetteSink } from "./sink.js";

/** A Datasette instance's JSON write API (options apiUrl, apiToken, table). */
export const datasetteStore: StoreKind<"datasette"> = {
  // A process that only writes to the spool has no store of its own: it writes Datasette rows.
  chosenBy: (o) => o.apiUrl !== undefined || o.publisher === false,
  defaults: SINK_DEFAULTS.datasette,
  maxBatchLimit: LIMITS.maxBatchRows,
  options: DATASETTE_OPTIONS,
  resolve: resolveDatasette,
  unchosen: checkApiToken,
  serializer: (o) => datasetteRowSerializer(o.instance),
  // A serializer of the app's own may write other columns; Datasette checks them.
  rowCheck: (o) => (o.serializer === undefined ? datasetteRowCheck : jsonObjectCheck),
  queuedEvents: (o) => (o.serializer === undefined ? datasetteRowEvents(o.instance) : serializedEvents(o.serializer)),
  sink: (o, transport) =>
    // No apiUrl: only a process that writes to a spool (publisher false), whose sink never sends.
    o.apiUrl === undefined
      ? spoolWriterSink
      : datasetteSink({
          apiUrl: o.apiUrl,
          apiToken: o.apiToken,
          table: o.table,
          requestTimeoutMs: o.requestTimeoutMs,
          transport,
        }),
};
