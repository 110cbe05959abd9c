import type { Dispatcher } from "undici";
import type { ResolvedOptions } from "../options.js";
import { datasetteSink } from "./datasette.js";
import type { Sink } from "./sink.js";

/** The store the options point at. Each kind of store adds its case here. */
export function createSink(o: ResolvedOptions, dispatcher: Dispatcher): Sink {
  return datasetteSink({ apiUrl: o.apiUrl, apiToken: o.apiToken, table: o.table, requestTimeoutMs: o.requestTimeoutMs, dispatcher });
}
