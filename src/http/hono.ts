import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, MiddlewareHandler, Next } from "hono";
import type { RequestRecorder } from "./request-recorder.js";
import type { Logger } from "../core/log.js";

/**
 * Hono's middleware signature written out, so that the package's declarations need no Hono types
 * (an optional peer): `c` is `any` so the middleware is assignable to Hono's `MiddlewareHandler`
 * whatever its environment and path types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventsHonoMiddleware = (c: any, next: () => Promise<void>) => Promise<Response | void>;

/** What @hono/node-server passes a Hono app as `c.env`: Node's own request and response. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/** Hono's marker on a handler it wrapped when a sub-app with its own error handler is mounted (hono/utils/constants). */
const COMPOSED_HANDLER = "__COMPOSED_HANDLER";

/**
 * `app.use(events.hono)`: the context as `c.var[name]` (set with `c.set`, so `c.get(name)` has
 * it too), and the request event. On Node (`@hono/node-server` passes Node's request and response
 * as `c.env.incoming` / `outgoing`) it is put when the response is done; on every other server
 * (Bun.serve, Deno.serve, Workers, edge functions) when the handlers have answered, from the
 * web-standard Request and Response. Where the platform gives a `waitUntil` (Workers, Vercel and
 * Netlify edge: `c.executionCtx`), the request is kept alive until its events are sent. Hono
 * itself is not imported (an optional peer): the middleware only needs the context it is given.
 */
export function createHonoMiddleware(
  recorder: RequestRecorder,
  logger: Logger,
  flush: () => Promise<void>,
): EventsHonoMiddleware {
  const { name } = recorder;
  const middleware: MiddlewareHandler = async function eventsHono(c: Context, next) {
    const { incoming, outgoing } = (c.env ?? {}) as NodeBindings;
    if (incoming === undefined || outgoing?.on === undefined) return recordWebRequest(c, next);
    const inFlight = recorder.begin(c, incoming, matchedRoute);
    if (inFlight !== undefined) {
      c.set(name as never, inFlight.context);
      recorder.endWhenDone(inFlight, outgoing);
    }
    return next();
  };
  return middleware;

  async function recordWebRequest(c: Context, next: Next): Promise<void> {
    const inFlight = recorder.begin(c, nodeView(c), matchedRoute);
    if (inFlight === undefined) return next();
    c.set(name as never, inFlight.context);
    try {
      await next();
    } finally {
      // The client that left first saw no status (as on Node); else the status the app answers.
      const aborted = c.req.raw.signal?.aborted === true;
      recorder.end(inFlight, aborted ? null : (c.res?.status ?? null), aborted);
      keepAliveUntilSent(c);
    }
  }

  /** Hands the platform a promise of delivery, where it has one: no call the app must remember. */
  function keepAliveUntilSent(c: Context): void {
    const waitUntil = executionContextOf(c)?.waitUntil;
    if (typeof waitUntil !== "function") return; // a long-lived server: the forwarder sends in the background
    try {
      waitUntil.call(
        executionContextOf(c),
        flush().catch((error: unknown) => logger.warn(`could not send this request's events: ${String(error)}`)),
      );
    } catch (error) {
      logger.warn(`could not keep the request alive for its events: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}

/** Hono's c.executionCtx, which throws where the server gave none (Bun.serve, Deno.serve, Node). */
function executionContextOf(c: Context): { waitUntil?: (promise: Promise<unknown>) => void } | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

const NODE_VIEWS = new WeakMap<Request, IncomingMessage>();

/**
 * What the recorder reads of a request (method, url, headers, client address, where the request id
 * is kept), from a web-standard Request. One per Request, so two forwarders on one app agree on
 * the request id.
 */
function nodeView(c: Context): IncomingMessage {
  const request = c.req.raw;
  let view = NODE_VIEWS.get(request);
  if (view === undefined) {
    const url = new URL(request.url);
    const headers = new Proxy(
      {},
      {
        get: (_, header) => (typeof header === "string" ? (request.headers.get(header) ?? undefined) : undefined),
      },
    );
    view = {
      method: request.method,
      url: url.pathname + url.search,
      headers,
      // Read only with option clientIpKey.
      get socket() {
        return { remoteAddress: clientAddress(c) };
      },
    } as unknown as IncomingMessage;
    NODE_VIEWS.set(request, view);
  }
  return view;
}

/**
 * The client's address where the server tells it: Bun.serve passes its server as c.env
 * (server.requestIP), Deno.serve its connection info (remoteAddr), Cloudflare the
 * CF-Connecting-IP header it sets itself on every request a Worker gets (request.cf is there).
 */
function clientAddress(c: Context): string | undefined {
  const env = c.env as
    { requestIP?: (request: Request) => { address?: string } | null; remoteAddr?: { hostname?: string } } | undefined;
  try {
    if (typeof env?.requestIP === "function") return env.requestIP(c.req.raw)?.address;
    if (typeof env?.remoteAddr?.hostname === "string") return env.remoteAddr.hostname;
    if ((c.req.raw as { cf?: unknown }).cf !== undefined) return c.req.raw.headers.get("cf-connecting-ip") ?? undefined;
  } catch {
    // An address is a nicety: never a reason to fail recording.
  }
  return undefined;
}

/**
 * The route pattern of the handler that answered, from Hono's own match: the handler it ran last
 * (c.req.routeIndex) among the routes that matched, as hono/route's routePath(c) reads it. When
 * the last one it ran is a middleware (it takes `next`: nothing answered, or a middleware did),
 * no route matched.
 */
function matchedRoute(c: Context): string | undefined {
  const route = c.req.matchedRoutes[c.req.routeIndex];
  if (route === undefined) return undefined;
  const handler = ((route.handler as unknown as Record<string, unknown>)[COMPOSED_HANDLER] ?? route.handler) as (
    ...args: unknown[]
  ) => unknown;
  return handler.length >= 2 ? undefined : route.path;
}
