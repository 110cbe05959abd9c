/**
 * A hello world whose extra middleware (and the handler's call into it) is switched on and off
 * over IPC, for the switched-overhead benchmark:
 *   node --import tsx switched-app.ts <koa|express|express4> <variant> <sinkUrl>
 * Variants: events-forward, floor, floor-concat, noop; on Koa also morgan, morgan-file, pino-http.
 * The same process measures the app with the middleware and without it, so what the process
 * itself adds (two processes of the same code differ by up to a third here) cancels out. On
 * Express both phases switch req and res to dictionary mode (events-forward does it itself), so
 * "off" is the dictionary-mode app, the baseline of events-forward's own cost on Node 20 and 22.
 * Messages: `on`/`off` (answers `{ switched }`), `cpu` (`{ cpu, handled }`), `flush` (sends what
 * events-forward holds: part of the "on" phase's cost), `profile-start`, `profile-stop:<path>`
 * (a V8 CPU profile of the phase, through the inspector), `stats`.
 */
import { createWriteStream, writeFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Session } from "node:inspector/promises";
import express5 from "express";
import express4 from "express4";
import Koa from "koa";
import { toDictionaryMode } from "../../src/http/express-objects.js";
import type { EventsForward } from "./package.js";
import { EVENT_NAME } from "./payload.js";
import { FLOOR_ROWS, floorForwarder, type FloorForwarder } from "./floor-forwarder.js";
import { koaMorgan, koaPino, loadEvents, nullStream } from "./request-loggers.js";

const [framework, variant, sinkUrl] = process.argv.slice(2) as [string, string, string];

let events: Pick<EventsForward | FloorForwarder, "flush" | "stats"> | undefined;
let on = false;
let handled = 0;
/** Requests handled with the middleware on: events-forward must have sent two events for each. */
let handledOn = 0;

type Put = { put(event: { event: string; properties: Record<string, unknown> }): void };
const put = (target: unknown) => (target as { events: Put }).events.put({ event: EVENT_NAME, properties: { step: 1 } });

const floorRows = FLOOR_ROWS[variant];

function floor(rows: "json" | "concat"): FloorForwarder {
  const forwarder = floorForwarder(sinkUrl, "bench", rows);
  events = forwarder;
  return forwarder;
}

/** The middleware as each package's Koa users mount it, and what the handler calls per request. */
function koaExtra(): { use: Koa.Middleware; call: (ctx: Koa.Context) => void } {
  if (variant === "events-forward") {
    const ef = loadEvents(sinkUrl);
    events = ef;
    return { use: ef, call: put };
  }
  if (floorRows !== undefined) return { use: floor(floorRows).koa, call: put };
  if (variant === "pino-http") return { use: koaPino(), call: (ctx) => ctx.req.log.info({ step: 1 }, EVENT_NAME) };
  // morgan: a null stream, as request-overhead.ts; morgan-file: a file stream (to /dev/null), as deployed.
  if (variant === "morgan") return { use: koaMorgan(nullStream), call: () => {} };
  if (variant === "morgan-file") return { use: koaMorgan(createWriteStream("/dev/null")), call: () => {} };
  if (variant === "noop") return { use: (_ctx, next) => next(), call: () => {} };
  throw new Error(`unknown variant ${variant} on Koa`);
}

function koaServer(): Server {
  const { use, call } = koaExtra();
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
  return app.listen(0, "127.0.0.1", listening);
}

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** What the dictionary-mode app does first on every request (on Node 20 and 22, as events-forward does). */
function dictionary(req: IncomingMessage, res: ServerResponse): void {
  toDictionaryMode(req);
  toDictionaryMode(res);
}

/** What each variant mounts on Express: events-forward switches to dictionary mode itself. */
function expressExtra(): Handler {
  if (variant === "events-forward") {
    const ef = loadEvents(sinkUrl);
    events = ef;
    return ef;
  }
  if (floorRows !== undefined) {
    const { express } = floor(floorRows);
    return (req, res, next) => {
      dictionary(req, res);
      express(req, res, next);
    };
  }
  if (variant === "noop") {
    return (req, res, next) => {
      dictionary(req, res);
      next();
    };
  }
  throw new Error(`unknown variant ${variant} on Express`);
}

function expressServer(): Server {
  const use = expressExtra();
  const app = (framework === "express4" ? express4 : express5)();
  app.use((req, res, next) => {
    if (on) return use(req, res, next);
    dictionary(req, res);
    next();
  });
  app.get("/", (req, res) => {
    handled++;
    // Express's router may defer a request's next step, so the switch can flip between the first
    // middleware and here: the request's own context says whether the middleware ran.
    if ((req as { events?: Put }).events !== undefined) {
      handledOn++;
      put(req);
    }
    res.send("hello world");
  });
  return app.listen(0, "127.0.0.1", listening);
}

function listening(): void {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
}

const server = framework === "koa" ? koaServer() : expressServer();
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
