import type { RequestEvents } from "./request-context.js";
import type {} from "koa";
import type {} from "fastify";
import type {} from "hono";

// Types the request context in the app's code: `req.events` (Express), `ctx.events` (Koa),
// `request.events` (Fastify), `c.var.events` and `c.get("events")` (Hono). A forwarder mounted
// under another `name` is reached by that name; declare it the same way in the app.
// (node:http: events.wrap() types its handler's `req`.)
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      events: RequestEvents;
    }
  }
}

declare module "koa" {
  interface DefaultContext {
    events: RequestEvents;
  }
}

declare module "fastify" {
  interface FastifyRequest {
    events: RequestEvents;
  }
}

declare module "hono" {
  interface ContextVariableMap {
    events: RequestEvents;
  }
}
