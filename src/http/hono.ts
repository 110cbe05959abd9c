import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
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
 * it too), the request event when Node's response is done. Hono itself is not imported (an
 * optional peer): the middleware only needs the context it is given.
 */
export function createHonoMiddleware(recorder: RequestRecorder, logger: Logger): EventsHonoMiddleware {
  const { name } = recorder;
  let warned = false;
  const middleware: MiddlewareHandler = async function eventsHono(c: Context, next) {
    const { incoming, outgoing } = (c.env ?? {}) as NodeBindings;
    if (incoming === undefined || outgoing === undefined) {
      if (!warned) {
        warned = true;
        logger.warn(
          "events.hono records requests on Node through @hono/node-server; this server gives no Node request (c.env.incoming): nothing recorded (reported once)",
        );
      }
      return next();
    }
    const inFlight = recorder.begin(c, incoming, matchedRoute);
    if (inFlight !== undefined) {
      c.set(name as never, inFlight.context);
      recorder.endWhenDone(inFlight, outgoing);
    }
    return next();
  };
  return middleware;
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
