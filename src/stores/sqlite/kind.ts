import { LIMITS, SINK_DEFAULTS } from "../../config/defaults.js";
import { datasetteRowSerializer } from "../../row/datasette-row.js";
import { datasetteRowEvents, serializedEvents } from "../../row/queued.js";
import { datasetteRowCheck, jsonObjectCheck } from "../../row/row-check.js";
import type { StoreKind } from "../kind.js";
import { noDatabase, resolveSqliteStore, SQLITE_STORE_OPTIONS } from "./options.js";
import { sqliteSink } from "./sink.js";

/** The embedded store: Datasette's rows in a local SQLite file (option database), used when no other store is given. */
export const sqliteStore: StoreKind<"sqlite"> = {
  chosenBy: () => true,
  defaults: SINK_DEFAULTS.sqlite,
  maxBatchLimit: LIMITS.maxBatchRows,
  options: SQLITE_STORE_OPTIONS,
  resolve: resolveSqliteStore,
  unchosen: noDatabase,
  serializer: (o) => datasetteRowSerializer(o.instance),
  // A serializer of the app's own may write other columns; Datasette checks them.
  rowCheck: (o) => (o.serializer === undefined ? datasetteRowCheck : jsonObjectCheck),
  queuedEvents: (o) => (o.serializer === undefined ? datasetteRowEvents(o.instance) : serializedEvents(o.serializer)),
  sink: (o) => sqliteSink({ path: o.database, table: o.table, allowSymlink: o.allowSymlinks, logger: o.logger }),
};
