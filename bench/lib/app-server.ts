/**
 * One hello-world app, in its own process, for the request-overhead benchmark:
 *   node --import tsx app-server.ts <express|express4|koa> <variant> <sinkUrl>
 * Variants: bare; events-forward (request event + one req.events.put per request, to the sink);
 * pino-http (request log + one req.log.info per request, to /dev/null); morgan (request line to a
 * null stream; morgan has no per-request logger to call); noop (a middleware that only calls next:
 * what any middleware costs); dictionary (Express only: a middleware that switches req and res to
 * V8's dictionary mode, as events-forward does on Node 20 and 22: the baseline of its own cost).
 * Sends `{ port }` over IPC once listening, answers `cpu` with its CPU time and requests handled,
 * and `stats` with the events-forward stats.
 */
import express5 from "express";
import express4 from "express4";
import Koa from "koa";
import morgan from "morgan";
import { pino } from "pino";
import { pinoHttp } from "pino-http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { toDictionaryMode } from "../../src/http/express-objects.js";
import { eventsForward, type EventsForward } from "./package.js";
import { EVENT_NAME, quietLogger } from "./payload.js";

const [framework, variant, sinkUrl] = process.argv.slice(2) as [string, string, string];
const express = (framework === "express4" ? express4 : express5) as typeof express5;
const BODY = "hello world";
const nullStream = { write() {} };

/**
 * Enough forwarding capacity for the load: batches of up to 1000 events (the store is not a
 * Datasette with its 100-row default; one with --setting max_insert_rows 1000 takes them), up to
 * 1000 requests a second, and room in the queue for a few seconds of events should the store (on
 * this busy machine) answer late.
 */
function makeEvents(): EventsForward {
  return eventsForward({
    apiUrl: `${sinkUrl}/bench/-/create`,
    instance: "bench",
    batchLimit: 1000,
    batchWaitMs: 1000,
    maxRate: 1000,
    timePeriod: 1,
    maxQueueSize: 100_000,
    maxQueueBytes: 1024 * 1024 * 1024,
    logger: quietLogger,
  });
}

function makePino() {
  return pinoHttp({ logger: pino(pino.destination({ dest: "/dev/null", sync: false })) });
}

let events: EventsForward | undefined;
/** Requests the handler ran: autocannon does not count those still in flight when it stops. */
let handled = 0;

function expressApp() {
  const app = express();
  if (variant === "events-forward") {
    events = makeEvents();
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
    events = makeEvents();
    app.use(events);
    app.use((ctx) => {
      handled++;
      ctx.events.put({ event: EVENT_NAME, properties: { step: 1 } });
      ctx.body = BODY;
    });
    return app;
  }
  if (variant === "pino-http") {
    // What koa-pino-logger does: run pino-http on the raw req/res, expose the child logger.
    const logger = makePino();
    app.use((ctx, next) => {
      logger(ctx.req, ctx.res);
      (ctx as unknown as { log: typeof ctx.req.log }).log = ctx.req.log;
      return next();
    });
    app.use((ctx) => {
      handled++;
      ctx.req.log.info({ step: 1 }, EVENT_NAME);
      ctx.body = BODY;
    });
    return app;
  }
  if (variant === "morgan") {
    // What koa-morgan does: run the connect-style middleware, then go on.
    const log = morgan("combined", { stream: nullStream });
    app.use(
      (ctx, next) =>
        new Promise<void>((resolve, reject) =>
          log(ctx.req as IncomingMessage & express5.Request, ctx.res as ServerResponse & express5.Response, (error?: unknown) =>
            error ? reject(error) : resolve(),
          ),
        ).then(next),
    );
  }
  if (variant === "noop") app.use((_ctx, next) => next());
  app.use((ctx) => {
    handled++;
    ctx.body = BODY;
  });
  return app;
}

const app = framework === "koa" ? koaApp() : expressApp();
const server = framework === "koa" ? (app as Koa).listen(0, "127.0.0.1") : (app as express5.Express).listen(0, "127.0.0.1");
server.keepAliveTimeout = 60_000;
server.on("listening", () => {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
});
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
