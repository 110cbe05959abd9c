import type { IncomingMessage, ServerResponse } from "node:http";
import { monotonicUlid } from "../core/ids.js";
import { MAX_PATH_LENGTH, truncate } from "./request-privacy.js";
import type { AppRequest } from "../config/options.js";

const SANE_REQUEST_ID = /^[\w.:+/=@-]{1,128}$/;

/**
 * One id per request, even when several forwarders are mounted (they must agree on it), kept on
 * the request under a registered symbol (a WeakMap cost several times as much per request).
 */
const REQUEST_ID = Symbol.for("events-forward.requestId");

const nextRequestId = monotonicUlid();

/** The incoming X-Request-Id if it looks like an id, else a fresh ULID. */
export function requestIdOf(req: IncomingMessage): string {
  const tagged = req as IncomingMessage & { [REQUEST_ID]?: string };
  let id = tagged[REQUEST_ID];
  if (id === undefined) {
    const given = req.headers["x-request-id"];
    id = typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : nextRequestId();
    tagged[REQUEST_ID] = id;
  }
  return id;
}

/** The path without its query string, cut to a sane length. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  return truncate(path, MAX_PATH_LENGTH);
}

/** Reads the route pattern that matched from the framework's request object (shared, not made per request). */
export type RouteOf = (request: AppRequest) => string | undefined;

export interface RequestFacts {
  method: string | undefined;
  /** Undefined when option requestPath is not "path": not recorded. */
  path: string | undefined;
  /** The framework's request object, and how to read its route once the response is done. */
  request: AppRequest;
  routeOf: RouteOf;
  startedAt: number;
  /** Opt-in facts (captured headers, client IP hash), gathered when the request came in. */
  extra: Record<string, unknown> | undefined;
}

/**
 * The automatic `request` event's properties. `status` is null when the client saw none (it
 * left before the headers went out); `aborted` when it left before the response was complete.
 */
export function requestEventProperties(
  facts: RequestFacts,
  status: number | null,
  aborted: boolean,
): Record<string, unknown> {
  const durationMs = Math.round((performance.now() - facts.startedAt) * 1000) / 1000;
  const properties: Record<string, unknown> =
    facts.path === undefined
      ? { method: facts.method, status, duration_ms: durationMs }
      : { method: facts.method, path: facts.path, status, duration_ms: durationMs };
  const route = facts.routeOf(facts.request);
  if (route !== undefined) properties.route = truncate(route, MAX_PATH_LENGTH);
  if (facts.extra !== undefined) Object.assign(properties, facts.extra);
  if (aborted) properties.aborted = true;
  return properties;
}

/**
 * Tells `inFlight` once the response is done: finished, or closed by the client first. 'close'
 * fires in both cases, after 'finish', so one plain listener is enough (`once` wraps the listener
 * and removes it again: work on every request); `done` guards against a second emit.
 */
export function onResponseDone(
  res: ServerResponse,
  inFlight: { done(status: number | null, aborted: boolean): void },
): void {
  res.on("close", () => inFlight.done(statusSeen(res), !res.writableFinished));
}

/** A client that left before the headers went out saw no status: none, not Node's default 200. */
function statusSeen(res: ServerResponse): number | null {
  return res.headersSent || res.writableFinished ? res.statusCode : null;
}
