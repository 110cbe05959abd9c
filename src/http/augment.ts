import type { RequestEvents } from "./request-events.js";
import type {} from "koa";

// Types `req.events` (Express) and `ctx.events` (Koa) in the app's code. A forwarder mounted
// under another `name` is reached as `req[name]`; declare it the same way in the app.
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
