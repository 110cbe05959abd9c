import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventsForward } from "../../../src/index.js";
import { RequestEvents } from "../../../src/index.js";
import { onCleanup } from "../lifecycle.js";

/**
 * What every test app is built from; every framework builds the same routes:
 * GET /users/:id (puts `user.viewed` through each context, answers with their request ids as
 * JSON), GET /boom (throws: 500), GET /health ("ok"), GET /hang (never answers), and
 * GET /api/items/:itemId in a mounted router ("item"); anything else is a 404.
 */
export interface AppSpec {
  /** eventsForward() handles, mounted first, in order, the framework's way. */
  forwarders: EventsForward[];
  /** Context names the /users/:id handler puts an event through. */
  names?: string[];
  /** Mount an authentication step after the forwarders: the X-User header becomes the user, where the framework keeps it. */
  auth?: boolean;
  /** Called when GET /hang has started (it never answers: the client must abort). */
  onHang?: () => void;
  /** Called on the response's 'finish', from a listener registered before the framework saw the request. */
  onFinish?: () => void;
  /** Called when the response is done, from a step mounted after the forwarders (so after their own). */
  onClose?: () => void;
}

export interface Framework {
  name: string;
  /** Whether it has routes (plain node:http has none: no route pattern). */
  routes: boolean;
  /** The request event is put when the handlers have answered, before the response goes out (no Node response to watch). */
  putsBeforeResponse?: boolean;
  /** Serves the app on a free loopback port until the test ends; resolves with its base URL. */
  serve(spec: AppSpec): Promise<string>;
  /** The path of a request, from the framework's request object (what actor() and skip() get). */
  pathOf(request: unknown): string;
  /** A request header, from the framework's request object. */
  headerOf(request: unknown, name: string): string | undefined;
}

/**
 * Puts one `user.viewed` event through each named context the request has, and answers with
 * the request id each context holds, so a test can tell which contexts were attached.
 */
export function putThrough(holder: Record<string, unknown>, names: string[], user: string): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const name of names) {
    const context = holder[name];
    if (!(context instanceof RequestEvents)) continue;
    context.put({ event: "user.viewed", properties: { user, context: name } });
    seen[name] = context.requestId;
  }
  return seen;
}

/** Serves `listener` on a free loopback port, registering spec.onFinish before the app sees each request. */
export async function serveListener(listener: RequestListener, spec: AppSpec): Promise<string> {
  const server = createServer((req, res) => {
    if (spec.onFinish) res.once("finish", spec.onFinish);
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => stopServer(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
