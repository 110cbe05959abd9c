import type { PutTarget } from "./request-context.js";
import { createRecorder, type RecorderSettings } from "./request-recorder.js";
import { createMiddleware } from "./middleware.js";
import { createFastifyPlugin, type EventsFastifyPlugin } from "./fastify.js";
import { createHonoMiddleware, type EventsHonoMiddleware } from "./hono.js";
import { createWrap } from "./node.js";

/** The handle's per-framework entry points besides itself (the Express and Koa middleware). */
export interface FrameworkAdapters {
  /** Fastify 5 plugin: `await fastify.register(events.fastify)`; `request.events` in handlers and hooks. */
  readonly fastify: EventsFastifyPlugin;
  /** Hono 4 middleware (Node, Bun, Deno, Workers, edge): `app.use(events.hono)`; `c.var.events` in handlers. */
  readonly hono: EventsHonoMiddleware;
  /** node:http: `http.createServer(events.wrap((req, res) => ...))`; `req.events` in the handler. */
  readonly wrap: ReturnType<typeof createWrap>;
}

/**
 * Every framework adapter of one handle, sharing one recorder (the per-request logic).
 * `close` drains the forwarder: the Fastify plugin calls it when the app closes.
 */
export function createAdapters(
  target: PutTarget,
  settings: RecorderSettings & { expressDictionaryMode: boolean },
  close: () => Promise<unknown>,
  flush: () => Promise<void>,
) {
  const recorder = createRecorder(target, settings);
  const adapters: FrameworkAdapters = {
    fastify: createFastifyPlugin(recorder, close),
    hono: createHonoMiddleware(recorder, settings.logger, flush),
    wrap: createWrap(recorder),
  };
  return { middleware: createMiddleware(recorder, settings), adapters };
}
