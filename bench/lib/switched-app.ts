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
import Koa from "koa";
import type { EventsForward } from "./package.js";
import { EVENT_NAME } from "./payload.js";
import { koaMorgan, koaPino, loadEvents, nullStream } from "./request-loggers.js";

const [variant, sinkUrl] = process.argv.slice(2) as [string, string];

let events: EventsForward | undefined;
let on = false;
let handled = 0;
/** Requests handled with the middleware on: events-forward must have sent two events for each. */
let handledOn = 0;

/** The middleware as each package's Koa users mount it, and what the handler calls per request. */
function extra(): { use: Koa.Middleware; call: (ctx: Koa.Context) => void } {
  if (variant === "events-forward") {
    const ef = loadEvents(sinkUrl);
    events = ef;
    return { use: ef as unknown as Koa.Middleware, call: (ctx) => ctx.events.put({ event: EVENT_NAME, properties: { step: 1 } }) };
  }
  if (variant === "pino-http") return { use: koaPino(), call: (ctx) => ctx.req.log.info({ step: 1 }, EVENT_NAME) };
  // morgan: a null stream, as request-overhead.ts; morgan-file: a file stream (to /dev/null), as deployed.
  if (variant === "morgan") return { use: koaMorgan(nullStream), call: () => {} };
  if (variant === "morgan-file") return { use: koaMorgan(createWriteStream("/dev/null")), call: () => {} };
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
