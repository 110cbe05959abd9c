/**
 * One hello-world app, in its own process, for the request-overhead benchmark:
 *   node --import tsx app-server.ts <express|express4|koa|fastify|hono> <variant> <sinkUrl>
 * Variants: bare; events-forward (request event + one req.events.put per request, to the sink);
 * pino-http (request log + one req.log.info per request, to /dev/null); morgan (request line to a
 * null stream; morgan has no per-request logger to call); noop (a middleware that only calls next:
 * what any middleware costs); dictionary (Express only: a middleware that switches req and res to
 * V8's dictionary mode, as events-forward does on Node 20 and 22: the baseline of its own cost).
 * Fastify and Hono: see fastify-hono-apps.ts.
 * Sends `{ port }` over IPC once listening, answers `cpu` with its CPU time and requests handled,
 * and `stats` with the events-forward stats.
 */
import express5 from "express";
import express4 from "express4";
import Koa from "koa";
import morgan from "morgan";
import { toDictionaryMode } from "../../src/http/express-objects.js";
import type { EventsForward } from "./package.js";
import { fastifyServer, honoServer } from "./fastify-hono-apps.js";
import { EVENT_NAME } from "./payload.js";
import { koaMorgan, koaPino, loadEvents, makePino, nullStream } from "./request-loggers.js";

const [framework, variant, sinkUrl] = process.argv.slice(2) as [string, string, string];
const express = framework === "express4" ? express4 : express5;
const BODY = "hello world";
let events: EventsForward | undefined;
/** Requests the handler ran: autocannon does not count those still in flight when it stops. */
let handled = 0;

function expressApp() {
  const app = express();
  if (variant === "events-forward") {
    events = loadEvents(sinkUrl);
    app.use(events);
    app.get("/", (req, res) => {
      handled++;
      req.events.put({ event: EVENT_NAME, properties: { step: 1 } });
      res.send(BODY);
    });
    return app;
  }
  if (variant === "pino-http") {
    app.use(makePino());
    app.get("/", (req, res) => {
      handled++;
      req.log.info({ step: 1 }, EVENT_NAME);
      res.send(BODY);
    });
    return app;
  }
  if (variant === "morgan") app.use(morgan("combined", { stream: nullStream }));
  if (variant === "noop") app.use((_req, _res, next) => next());
  if (variant === "dictionary") {
    app.use((req, res, next) => {
      toDictionaryMode(req);
      toDictionaryMode(res);
      next();
    });
  }
  app.get("/", (_req, res) => {
    handled++;
    res.send(BODY);
  });
  return app;
}

function koaApp() {
  const app = new Koa();
  if (variant === "events-forward") {
    events = loadEvents(sinkUrl);
    app.use(events);
    app.use((ctx) => {
      handled++;
      ctx.events.put({ event: EVENT_NAME, properties: { step: 1 } });
      ctx.body = BODY;
    });
    return app;
  }
  if (variant === "pino-http") {
    app.use(koaPino());
    app.use((ctx) => {
      handled++;
      ctx.req.log.info({ step: 1 }, EVENT_NAME);
      ctx.body = BODY;
    });
    return app;
  }
  if (variant === "morgan") app.use(koaMorgan(nullStream));
  if (variant === "noop") app.use((_ctx, next) => next());
  app.use((ctx) => {
    handled++;
    ctx.body = BODY;
  });
  return app;
}

async function start() {
  if (framework === "fastify" || framework === "hono") {
    const made = await (framework === "fastify" ? fastifyServer : honoServer)({
      variant,
      makeEvents: () => loadEvents(sinkUrl),
      handled: () => handled++,
    });
    events = made.events;
    return made.server;
  }
  return framework === "koa"
    ? koaApp().listen(0, "127.0.0.1")
    : (expressApp() as express5.Express).listen(0, "127.0.0.1");
}

const server = await start();
server.keepAliveTimeout = 60_000;
const sendPort = () => {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
};
if (server.listening) sendPort();
else server.on("listening", sendPort);
process.on("message", async (message) => {
  if (message === "cpu") {
    // CPU time of this process (all threads) and requests handled so far: the cost per request,
    // which other processes on the machine disturb much less than they disturb throughput.
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system, handled });
  }
  if (message === "stats") {
    await events?.flush();
    process.send!({ stats: events === undefined ? null : { ...events.stats(), handled } });
  }
});
process.on("disconnect", () => process.exit(0));
