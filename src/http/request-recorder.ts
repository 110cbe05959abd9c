import type { IncomingMessage, ServerResponse } from "node:http";
import { RequestEvents, type PutTarget } from "./request-context.js";
import { BeforeSendError, EventQueueFullError, ForwarderClosedError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { AppRequest } from "../config/options.js";
import {
  onResponseDone,
  pathOf,
  requestEventProperties,
  requestIdOf,
  type RequestFacts,
  type RouteOf,
} from "./request-facts.js";
import { capturedHeaders, clientIpHash, clientIpOf } from "./request-privacy.js";

/** The options every framework adapter applies the same way. */
export interface RecorderSettings {
  name: string;
  actor: (request: AppRequest) => unknown;
  requestEvents: boolean;
  /** What a request event records of the URL (option requestPath). */
  requestPath: "path" | "route" | false;
  skip?: (request: AppRequest) => boolean;
  /** Request headers to record (lower case); empty: none. */
  captureHeaders: readonly string[];
  /** When set, request events carry the client IP as a keyed hash. */
  clientIpKey?: string;
  logger: Logger;
}

/**
 * One request on its way: its context, and what its request event will say. One object a request
 * besides the context, and no closure but the response's listener: the route is read through a
 * function the adapter shares.
 */
export class RequestInFlight implements RequestFacts {
  constructor(
    private readonly recorder: RequestRecorder,
    readonly context: RequestEvents,
    readonly request: AppRequest,
    readonly method: string | undefined,
    readonly path: string | undefined,
    readonly routeOf: RouteOf,
    readonly startedAt: number,
    readonly extra: Record<string, unknown> | undefined,
    /** Whether the request event was put, or there is none to put (requestEvents off, skip). */
    public recorded: boolean,
  ) {}

  /** The response is done: put the request event (once). */
  done(status: number | null, aborted: boolean): void {
    this.recorder.end(this, status, aborted);
  }
}

/**
 * What every framework adapter does per request, whatever the framework: `request` is the
 * framework's own request object (what actor() and skip() receive, where `ip` and `originalUrl`
 * are looked up), `req` and `res` are Node's.
 */
export interface RequestRecorder {
  readonly name: string;
  /** The request's context, and its request event to end; undefined only when that failed (logged). Never throws. */
  begin(request: AppRequest, req: IncomingMessage, routeOf: RouteOf): RequestInFlight | undefined;
  /** Puts the request event, once; never throws. */
  end(inFlight: RequestInFlight, status: number | null, aborted: boolean): void;
  /** Ends the request event when `res` is done (finished, or closed by the client first). */
  endWhenDone(inFlight: RequestInFlight, res: ServerResponse): void;
  /** begin(), the context attached as request[name], and the event put when `res` is done. */
  attach(request: AppRequest, req: IncomingMessage, res: ServerResponse, routeOf: RouteOf): void;
}

export function createRecorder(target: PutTarget, settings: RecorderSettings): RequestRecorder {
  const { name } = settings;
  let reportedUnrecordable = false;

  function begin(request: AppRequest, req: IncomingMessage, routeOf: RouteOf): RequestInFlight | undefined {
    try {
      const startedAt = performance.now();
      const context = new RequestEvents(target, requestIdOf(req), request, settings.actor);
      if (!settings.requestEvents || isSkipped(request))
        return new RequestInFlight(recorder, context, request, undefined, "", routeOf, startedAt, undefined, true);
      return new RequestInFlight(
        recorder,
        context,
        request,
        req.method,
        settings.requestPath === "path" ? pathOf(originalUrl(request, req)) : undefined,
        settings.requestPath === false ? noRoute : routeOf,
        startedAt,
        optInFacts(request, req),
        false,
      );
    } catch (error) {
      // Recording is best effort: whatever goes wrong here, the request goes on.
      settings.logger.warn(`could not record this request: ${(error as Error)?.message ?? String(error)}`);
      return undefined;
    }
  }

  function end(inFlight: RequestInFlight, status: number | null, aborted: boolean): void {
    if (inFlight.recorded) return;
    inFlight.recorded = true;
    try {
      inFlight.context.putRequestEvent({
        event: "request",
        properties: requestEventProperties(inFlight, status, aborted),
      });
    } catch (error) {
      // A request event never fails a request. A full queue is counted and logged by the
      // forwarder, a closed one is expected at shutdown; anything else (an actor() that returns
      // an object, a serializer that cannot take request events) is a bug worth one warning. A
      // failing beforeSend is counted and reported once where it runs (row/before-send.ts).
      if (
        error instanceof EventQueueFullError ||
        error instanceof ForwarderClosedError ||
        error instanceof BeforeSendError ||
        reportedUnrecordable
      )
        return;
      reportedUnrecordable = true;
      settings.logger.warn(
        `request events cannot be recorded: ${(error as Error)?.message ?? String(error)} (reported once)`,
      );
    }
  }

  function endWhenDone(inFlight: RequestInFlight, res: ServerResponse): void {
    if (inFlight.recorded) return;
    try {
      onResponseDone(res, inFlight);
    } catch (error) {
      settings.logger.warn(`could not record this request: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** What the app asked to record beyond the defaults; undefined when nothing. */
  function optInFacts(request: AppRequest, req: IncomingMessage): Record<string, unknown> | undefined {
    if (settings.captureHeaders.length === 0 && settings.clientIpKey === undefined) return undefined; // the usual case: no work per request
    const extra: Record<string, unknown> = {};
    const headers = capturedHeaders(req, settings.captureHeaders, settings.clientIpKey);
    if (headers !== undefined) extra.headers = headers;
    const key = settings.clientIpKey;
    const ip = key === undefined ? undefined : clientIpOf(request, req);
    if (ip !== undefined && key !== undefined) extra.client_ip_hash = clientIpHash(ip, key);
    return Object.keys(extra).length === 0 ? undefined : extra;
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

  const recorder: RequestRecorder = {
    name,
    begin,
    end,
    endWhenDone,
    attach(request, req, res, routeOf) {
      const inFlight = begin(request, req, routeOf);
      if (inFlight === undefined) return;
      try {
        request[name] = inFlight.context;
      } catch (error) {
        settings.logger.warn(`could not record this request: ${(error as Error)?.message ?? String(error)}`);
        return;
      }
      endWhenDone(inFlight, res);
    },
  };
  return recorder;
}

const noRoute: RouteOf = () => undefined;

function originalUrl(request: AppRequest, req: IncomingMessage): string | undefined {
  return typeof request?.originalUrl === "string" ? request.originalUrl : req.url;
}
