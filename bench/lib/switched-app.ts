/**
 * A Koa hello world whose extra middleware (and the handler's call into it) is switched on and off
 * over IPC, for the switched-overhead benchmark:
 *   node --import tsx switched-app.ts <events-forward|morgan|morgan-file|pino-http|noop> <sinkUrl>
 * The same process measures the app with the middleware and without it, so what the process
 * itself adds (two processes of the same code differ by up to a third here) cancels out.
 * Messages: `on`/`off` (answers `{ switched }`), `cpu` (`{ cpu, handled }`), `flush` (sends what
 * events-forward holds: part of the "on" phase's cost), `profile-start`, `profile-stop:<path>`
 * (a V8 CPU profile of the phase, through the inspector), `stats`.
 */
import { createWriteStream, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import Koa from "koa";
import morgan from "morgan";
import { pino } from "pino";
import { pinoHttp } from "pino-http";
import { eventsForward, type EventsForward } from "./package.js";
import { EVENT_NAME, quietLogger } from "./payload.js";

const [variant, sinkUrl] = process.argv.slice(2) as [string, string];
type Middleware = (ctx: Koa.Context, next: Koa.Next) => Promise<unknown>;

let events: EventsForward | undefined;
let on = false;
let handled = 0;
/** Requests handled with the middleware on: events-forward must have sent two events for each. */
let handledOn = 0;

/** The middleware as each package's Koa users mount it, and what the handler calls per request. */
function extra(): { use: Middleware; call: (ctx: Koa.Context) => void } {
  if (variant === "events-forward") {
    // The request-overhead benchmark's settings (app-server.ts): batches of up to 1000 events.
    const ef = eventsForward({ apiUrl: `${sinkUrl}/bench/-/create`, instance: "bench", batchLimit: 1000, batchWaitMs: 1000, maxRate: 1000, timePeriod: 1, maxQueueSize: 100_000, maxQueueBytes: 1024 * 1024 * 1024, logger: quietLogger });
    events = ef;
    return { use: ef as unknown as Middleware, call: (ctx) => ctx.events.put({ event: EVENT_NAME, properties: { step: 1 } }) };
  }
  if (variant === "pino-http") {
    const logger = pinoHttp({ logger: pino(pino.destination({ dest: "/dev/null", sync: false })) });
    return { use: (ctx, next) => (logger(ctx.req, ctx.res), next()), call: (ctx) => ctx.req.log.info({ step: 1 }, EVENT_NAME) };
  }
  if (variant === "morgan" || variant === "morgan-file") {
    // morgan: a null stream, as request-overhead.ts; morgan-file: a file stream (to /dev/null), as deployed.
    const log = morgan("combined", { stream: variant === "morgan" ? { write() {} } : createWriteStream("/dev/null") });
    const use: Middleware = (ctx, next) =>
      new Promise<void>((resolve, reject) => log(ctx.req as IncomingMessage as never, ctx.res as ServerResponse as never, (error?: unknown) => (error ? reject(error) : resolve()))).then(next);
    return { use, call: () => {} };
  }
  if (variant === "noop") return { use: (_ctx, next) => next(), call: () => {} };
  throw new Error(`unknown variant ${variant}`);
}

const { use, call } = extra();
const app = new Koa();
app.use((ctx, next) => (on ? use(ctx, next) : next()));
app.use((ctx) => {
  handled++;
  if (on) {
    handledOn++;
    call(ctx);
  }
  ctx.body = "hello world";
});
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
});
server.keepAliveTimeout = 60_000;

const session = new Session();
session.connect();

process.on("message", async (message: string) => {
  if (message === "on" || message === "off") {
    on = message === "on";
    process.send!({ switched: on });
  } else if (message === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system, handled });
  } else if (message === "flush") {
    await events?.flush();
    process.send!({ flushed: true });
  } else if (message === "stats") {
    process.send!({ stats: events === undefined ? null : { ...events.stats(), handledOn } });
  } else if (message === "profile-start") {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    process.send!({ profiling: true });
  } else if (message.startsWith("profile-stop:")) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(message.slice("profile-stop:".length), JSON.stringify(profile));
    process.send!({ saved: true });
  }
});
process.on("disconnect", () => process.exit(0));
