import type { IncomingMessage, ServerResponse } from "node:http";
import { RequestEvents, type PutTarget } from "./request-events.js";
import { BeforeSendError, EventQueueFullError, ForwarderClosedError } from "../core/errors.js";
import { expressObjectsNeedDictionaryMode, toDictionaryMode } from "./express-objects.js";
import type { Logger } from "../core/log.js";
import type { AppRequest } from "../config/options.js";
import { onResponseDone, pathOf, requestIdOf } from "./request-event.js";
import { capturedHeaders, clientIpHash, clientIpOf } from "./request-privacy.js";

export interface MiddlewareSettings {
  name: string;
  actor: (request: AppRequest) => unknown;
  requestEvents: boolean;
  /** Switch Express's req and res to dictionary mode where V8 needs it (express-objects.ts). */
  expressDictionaryMode: boolean;
  skip?: (request: AppRequest) => boolean;
  /** Request headers to record (lower case); empty: none. */
  captureHeaders: readonly string[];
  /** When set, request events carry the client IP as a keyed hash. */
  clientIpKey?: string;
  logger: Logger;
}

type Next = (error?: unknown) => unknown;

/**
 * One function that Express (req, res, next) and Koa (ctx, next) both accept: Express passes
 * three arguments, Koa two.
 */
export function createMiddleware(target: PutTarget, settings: MiddlewareSettings) {
  const { name } = settings;
  const dictionaryMode = settings.expressDictionaryMode && expressObjectsNeedDictionaryMode();
  let reportedUnrecordable = false;

  function attach(request: AppRequest, req: IncomingMessage, res: ServerResponse, route: () => string | undefined): void {
    const startedAt = performance.now();
    const context = new RequestEvents(target, requestIdOf(req), request, settings.actor);
    request[name] = context;
    if (!settings.requestEvents || isSkipped(request)) return;
    const facts = { method: req.method, path: pathOf(originalUrl(request, req)), route, startedAt, extra: optInFacts(request, req) };
    onResponseDone(res, facts, (properties) => {
      try {
        context.put({ event: "request", properties });
      } catch (error) {
        // A request event never fails a request. A full queue is counted and logged by the
        // forwarder, a closed one is expected at shutdown; anything else (an actor() that returns
        // an object, a serializer that cannot take request events) is a bug worth one warning.
        // A failing beforeSend is counted and reported once where it runs (row/before-send.ts).
        if (error instanceof EventQueueFullError || error instanceof ForwarderClosedError || error instanceof BeforeSendError || reportedUnrecordable) return;
        reportedUnrecordable = true;
        settings.logger.warn(`request events cannot be recorded: ${(error as Error)?.message ?? String(error)} (reported once)`);
      }
    });
  }

  /** What the app asked to record beyond the defaults; undefined when nothing. */
  function optInFacts(request: AppRequest, req: IncomingMessage): Record<string, unknown> | undefined {
    if (settings.captureHeaders.length === 0 && settings.clientIpKey === undefined) return undefined; // the usual case: no work per request
    const extra: Record<string, unknown> = {};
    const headers = capturedHeaders(req, settings.captureHeaders);
    if (headers !== undefined) extra.headers = headers;
    const ip = settings.clientIpKey === undefined ? undefined : clientIpOf(request, req);
    if (ip !== undefined) extra.client_ip_hash = clientIpHash(ip, settings.clientIpKey!);
    return Object.keys(extra).length === 0 ? undefined : extra;
  }

  /** Recording is best effort: whatever goes wrong here, the request goes on. */
  function attachSafely(request: AppRequest, req: IncomingMessage, res: ServerResponse, route: () => string | undefined): void {
    try {
      attach(request, req, res, route);
    } catch (error) {
      settings.logger.warn(`could not record this request: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  function isSkipped(request: AppRequest): boolean {
    if (settings.skip === undefined) return false;
    try {
      return settings.skip(request) === true;
    } catch (error) {
      settings.logger.warn(`option skip threw, recording the request anyway: ${(error as Error).message}`);
      return false;
    }
  }

  return function eventsMiddleware(first: AppRequest, second: AppRequest, third?: Next): unknown {
    if (typeof third === "function") {
      const req = first as IncomingMessage & AppRequest;
      if (dictionaryMode) {
        // First, so that the middleware's own writes below are cheap too.
        toDictionaryMode(req);
        toDictionaryMode(second);
      }
      attachSafely(req, req, second as ServerResponse, () => expressRoute(req));
      return third();
    }
    const ctx = first;
    attachSafely(ctx, ctx?.req, ctx?.res, () => ctx._matchedRoute ?? ctx.routerPath);
    return (second as Next)();
  };
}

function originalUrl(request: AppRequest, req: IncomingMessage): string | undefined {
  return typeof request.originalUrl === "string" ? request.originalUrl : req.url;
}

/** Express knows the route pattern once a route matched: baseUrl (mounted routers) + route.path. */
function expressRoute(req: AppRequest): string | undefined {
  const path = req.route?.path;
  if (typeof path !== "string") return undefined;
  return `${req.baseUrl ?? ""}${path}`;
}
