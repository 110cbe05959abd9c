/**
 * The Fastify and Hono hello-world apps of the request-overhead benchmark (app-server.ts runs
 * them). Fastify: bare; noop (an onRequest hook that does nothing: what any hook costs);
 * events-forward (the plugin, and one request.events.put per request); fastify-logger
 * (Fastify's own request logging, `logger: true` but to /dev/null, and one request.log.info per
 * request). Hono on @hono/node-server: bare; noop (a middleware that only calls next);
 * events-forward (the middleware, and one c.var.events.put per request).
 */
import { getRequestListener } from "@hono/node-server";
import Fastify from "fastify";
import { Hono } from "hono";
import { createServer, type Server } from "node:http";
import { pino } from "pino";
import type { EventsForward } from "./package.js";
import { EVENT_NAME } from "./payload.js";

const BODY = "hello world";

export interface BenchApp {
  variant: string;
  makeEvents: () => EventsForward;
  /** Counts a request the handler ran. */
  handled: () => void;
}

export async function fastifyServer({
  variant,
  makeEvents,
  handled,
}: BenchApp): Promise<{ server: Server; events?: EventsForward }> {
  const logger =
    variant === "fastify-logger"
      ? { level: "info", stream: pino.destination({ dest: "/dev/null", sync: false }) }
      : false;
  const app = Fastify({ logger });
  let events: EventsForward | undefined;
  if (variant === "events-forward") {
    events = makeEvents();
    await app.register(events.fastify);
    app.get("/", async (request) => {
      handled();
      request.events.put({ event: EVENT_NAME, properties: { step: 1 } });
      return BODY;
    });
  } else if (variant === "fastify-logger") {
    app.get("/", async (request) => {
      handled();
      request.log.info({ step: 1 }, EVENT_NAME);
      return BODY;
    });
  } else {
    if (variant === "noop") app.addHook("onRequest", (_request, _reply, done) => done());
    app.get("/", async () => {
      handled();
      return BODY;
    });
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { server: app.server, events };
}

export function honoServer({ variant, makeEvents, handled }: BenchApp): { server: Server; events?: EventsForward } {
  const app = new Hono();
  let events: EventsForward | undefined;
  if (variant === "events-forward") {
    events = makeEvents();
    app.use(events.hono);
    app.get("/", (c) => {
      handled();
      c.var.events.put({ event: EVENT_NAME, properties: { step: 1 } });
      return c.text(BODY);
    });
  } else {
    if (variant === "noop") app.use((_c, next) => next());
    app.get("/", (c) => {
      handled();
      return c.text(BODY);
    });
  }
  const server = createServer(getRequestListener(app.fetch));
  server.listen(0, "127.0.0.1");
  return { server, events };
}
