import type { IncomingMessage, ServerResponse } from "node:http";
import { ulid } from "ulid";

const SANE_REQUEST_ID = /^[\w.:+/=@-]{1,128}$/;
export const MAX_PATH_LENGTH = 1024;
const TRUNCATED = "…[truncated]";

/** One id per request, even when several forwarders are mounted (they must agree on it). */
const requestIds = new WeakMap<IncomingMessage, string>();

/** The incoming X-Request-Id if it looks like an id, else a fresh ULID. */
export function requestIdOf(req: IncomingMessage): string {
  let id = requestIds.get(req);
  if (id === undefined) {
    const given = req.headers["x-request-id"];
    id = typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : ulid();
    requestIds.set(req, id);
  }
  return id;
}

/** The path without its query string, cut to a sane length. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  return path.length > MAX_PATH_LENGTH ? path.slice(0, MAX_PATH_LENGTH) + TRUNCATED : path;
}

export interface RequestFacts {
  method: string | undefined;
  path: string;
  route: () => string | undefined;
  startedAt: number;
}

/**
 * Calls `record` once when the response is done: finished, or closed by the client first.
 * 'close' fires in both cases, after 'finish', so one listener is enough.
 */
export function onResponseDone(res: ServerResponse, facts: RequestFacts, record: (properties: Record<string, unknown>) => void): void {
  res.once("close", () => {
    const properties: Record<string, unknown> = {
      method: facts.method,
      path: facts.path,
      status: res.statusCode,
      duration_ms: Math.round((performance.now() - facts.startedAt) * 1000) / 1000,
    };
    const route = facts.route();
    if (route !== undefined) properties.route = route;
    if (!res.writableFinished) properties.aborted = true;
    record(properties);
  });
}
