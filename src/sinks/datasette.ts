import type { Dispatcher } from "undici";
import { describeUrl, postBatch } from "./http.js";
import type { Sink } from "./sink.js";

/** Datasette refuses more rows than this in one write by default (max_insert_rows). */
export const DATASETTE_MAX_ROWS = 100;

export interface DatasetteSinkOptions {
  apiUrl: URL;
  apiToken?: string;
  table: string;
  requestTimeoutMs: number;
  dispatcher: Dispatcher;
}

/** Is this a write API URL, and which kind? */
export function datasetteMode(url: URL): "create" | "insert" | undefined {
  if (url.pathname.endsWith("/-/create")) return "create";
  if (url.pathname.endsWith("/-/insert")) return "insert";
  return undefined;
}

/**
 * Posts rows to Datasette's JSON write API. `/-/create` creates the table on first use; both
 * variants send `"ignore": true`, so a batch sent twice writes each row once (ids are ULIDs).
 */
export function datasetteSink(options: DatasetteSinkOptions): Sink {
  const mode = datasetteMode(options.apiUrl);
  // The body is a join of ready strings: each row was serialized when it was put.
  const prefix =
    mode === "create" ? `{"table":${JSON.stringify(options.table)},"pk":"id","ignore":true,"rows":[` : `{"ignore":true,"rows":[`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiToken !== undefined) headers.authorization = `Bearer ${options.apiToken}`;
  return {
    description: `Datasette ${describeUrl(options.apiUrl)}`,
    maxBatchSize: DATASETTE_MAX_ROWS,
    send: (payloads, signal) =>
      postBatch({
        dispatcher: options.dispatcher,
        url: options.apiUrl,
        headers,
        body: `${prefix}${payloads.join(",")}]}`,
        timeoutMs: options.requestTimeoutMs,
        signal,
        explain: (status, body) => explainDatasetteError(status, body, mode),
        secrets: options.apiToken === undefined ? undefined : [options.apiToken],
      }),
  };
}

/** Datasette answers errors as `{"ok": false, "errors": [...]}`; add what the status means. */
export function explainDatasetteError(status: number, body: string, mode: "create" | "insert" | undefined): string {
  let detail = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { errors?: unknown; error?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) detail = parsed.errors.join("; ");
    else if (typeof parsed.error === "string") detail = parsed.error;
  } catch {
    // Not JSON (a proxy's error page, say): keep the start of the text.
  }
  const hint =
    status === 403
      ? mode === "create"
        ? " (the token needs the create-table and insert-row permissions for a /-/create URL)"
        : " (the token needs the insert-row permission)"
      : status === 401
        ? " (the token is missing, expired or signed with another secret)"
        : "";
  return `Datasette answered HTTP ${status}: ${detail}${hint}`;
}
