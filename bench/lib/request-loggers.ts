/**
 * What the request-load servers (app-server.ts, switched-app.ts) mount: events-forward with the
 * settings for that load, and the request loggers users would pick instead, mounted on Koa the
 * way koa-pino-logger and koa-morgan do it.
 */
import type Koa from "koa";
import morgan from "morgan";
import { pino } from "pino";
import { pinoHttp } from "pino-http";
import { eventsForward, type EventsForward } from "./package.js";
import { quietLogger } from "./payload.js";

/** A stream that drops what morgan writes: the log line is made, not written. */
export const nullStream = { write() {} };

/**
 * Enough forwarding capacity for the load: batches of up to 1000 events (the store is not a
 * Datasette with its 100-row default; one with --setting max_insert_rows 1000 takes them), up to
 * 1000 requests a second, and room in the queue for a few seconds of events should the store (on
 * this busy machine) answer late.
 */
export function loadEvents(sinkUrl: string): EventsForward {
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

/** pino-http writing to /dev/null through pino's asynchronous destination. */
export function makePino() {
  return pinoHttp({ logger: pino(pino.destination({ dest: "/dev/null", sync: false })) });
}

/** What koa-pino-logger does: run pino-http on the raw req/res, expose the child logger. */
export function koaPino(): Koa.Middleware {
  const logger = makePino();
  return (ctx, next) => {
    logger(ctx.req, ctx.res);
    (ctx as unknown as { log: typeof ctx.req.log }).log = ctx.req.log;
    return next();
  };
}

/** What koa-morgan does: run the connect-style middleware, then go on. */
export function koaMorgan(stream: { write(line: string): unknown }): Koa.Middleware {
  const log = morgan("combined", { stream });
  return (ctx, next) =>
    new Promise<void>((resolve, reject) =>
      log(ctx.req as never, ctx.res as never, (error?: unknown) => (error ? reject(error) : resolve())),
    ).then(next);
}
