import { batchBody } from "./body.js";
import { describeUrl, postBatch, readyTransport } from "../http.js";
import type { Transport } from "../transport.js";
import type { Sink } from "../../pipeline/sink.js";

export interface DatasetteSinkOptions {
  apiUrl: URL;
  apiToken?: string;
  table: string;
  requestTimeoutMs: number;
  transport: Transport;
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
  const prefix =
    mode === "create"
      ? `{"table":${JSON.stringify(options.table)},"pk":"id","ignore":true,"rows":[`
      : `{"ignore":true,"rows":[`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiToken !== undefined) headers.authorization = `Bearer ${options.apiToken}`;
  return {
    description: `Datasette ${describeUrl(options.apiUrl)}`,
    ready: () => readyTransport(options.transport),
    send: (events, signal, payloadBytes) =>
      postBatch({
        transport: options.transport,
        url: options.apiUrl,
        headers,
        body: batchBody(prefix, events, "]}", payloadBytes),
        timeoutMs: options.requestTimeoutMs,
        signal,
        explain: (status, body) => explainDatasetteError(status, body, mode),
        maxRows: datasetteRowLimit,
        // 404 on the write URL: the table (of an /-/insert URL) or the database is not there yet.
        senderRefused: [401, 403, 404],
        secrets: options.apiToken === undefined ? undefined : [options.apiToken],
      }),
  };
}

/** Datasette answers errors as `{"ok": false, "errors": [...]}`; add what the status means. */
export function explainDatasetteError(status: number, body: string, mode: "create" | "insert" | undefined): string {
  const detail = datasetteErrors(body)?.join("; ") ?? body.slice(0, 500);
  const hint =
    status === 403
      ? mode === "create"
        ? " (the token needs the create-table and insert-row permissions for a /-/create URL)"
        : " (the token needs the insert-row permission)"
      : status === 401
        ? " (the token is missing, expired or signed with another secret)"
        : status === 404
          ? mode === "insert"
            ? " (the table or the database does not exist yet: create the table, or use a /-/create URL)"
            : " (the database does not exist on this Datasette)"
          : "";
  return `Datasette answered HTTP ${status}: ${detail}${hint}`;
}

/** The messages of a Datasette error answer; undefined when the body is not one (a proxy's page, say). */
function datasetteErrors(body: string): string[] | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown; error?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) return parsed.errors.map(String);
    if (typeof parsed.error === "string") return [parsed.error];
  } catch {
    // Not JSON.
  }
  return undefined;
}

// Datasette's words (views/table.py) when a write has more rows than its max_insert_rows setting.
const TOO_MANY_ROWS = /^Too many rows, maximum allowed is (\d+)$/;

/** The max_insert_rows a 400 "Too many rows" answer names; undefined for any other answer. */
export function datasetteRowLimit(status: number, body: string): number | undefined {
  if (status !== 400) return undefined;
  for (const error of datasetteErrors(body) ?? []) {
    const rows = Number(TOO_MANY_ROWS.exec(error)?.[1]);
    // A limit of 0 refuses every write: no cut can help, so the batch takes the usual path.
    if (Number.isSafeInteger(rows) && rows >= 1) return rows;
  }
  return undefined;
}
