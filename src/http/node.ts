import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestEvents } from "./request-context.js";
import type { RequestRecorder } from "./request-recorder.js";

/** A node:http request handler whose `req` carries the request context. */
export type WrappedHandler<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
> = (req: Req & { events: RequestEvents }, res: Res) => unknown;

/**
 * `http.createServer(events.wrap(handler))`: the context as `req[name]` before the handler runs,
 * the request event when the response is done. Plain node:http has no routes: no route pattern.
 */
export function createWrap(recorder: RequestRecorder) {
  const noRoute = () => undefined;
  return function wrap<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
    handler: WrappedHandler<Req, Res>,
  ): (req: Req, res: Res) => unknown {
    if (typeof handler !== "function") throw new TypeError("events.wrap() takes a request handler: (req, res) => ...");
    return function eventsWrapped(req, res) {
      recorder.attach(req, req, res, noRoute);
      return handler(req as Req & { events: RequestEvents }, res);
    };
  };
}
