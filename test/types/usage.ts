// Compiled (never run) by test/package.test.ts against the built package's declarations.
import express from "express";
import Koa from "koa";
import Fastify from "fastify";
import { Hono } from "hono";
import { createServer } from "node:http";
import { eventsForward, RequestEvents, type CloseResult, type ForwarderStats } from "events-forward";

const events = eventsForward({
  apiUrl: "https://example.com/data/-/create",
  apiToken: { $env: "FORWARD_TOKEN" },
  instance: "web-1",
});

const app = express();
app.use(events);
app.post("/signup", (req, res) => {
  const context: RequestEvents = req.events;
  context.put({ event: "signup", actorId: "u1", properties: { plan: "pro" } });
  // @ts-expect-error: req.events is typed, so a misspelt method is caught
  req.events.putt({ event: "signup" });
  res.sendStatus(201);
});

const koa = new Koa();
koa.use(events);
koa.use(async (ctx) => {
  const context: RequestEvents = ctx.events;
  context.put({ event: "koa-signup" });
  // @ts-expect-error: ctx.events is typed, not any
  const wrong: number = ctx.events;
  void wrong;
});

const fastify = Fastify();
await fastify.register(events.fastify);
fastify.addHook("preHandler", async (request) => {
  const context: RequestEvents = request.events;
  context.put({ event: "hook" });
});
fastify.get("/users/:id", async (request) => {
  request.events.put({ event: "viewed" });
  // @ts-expect-error: request.events is typed by declaration merging, so a misspelt method is caught
  request.events.putt({ event: "viewed" });
  return {};
});

const hono = new Hono();
hono.use(events.hono);
hono.get("/users/:id", (c) => {
  const viaVar: RequestEvents = c.var.events;
  const viaGet: RequestEvents = c.get("events");
  viaVar.put({ event: "viewed" });
  // @ts-expect-error: c.var.events is a typed context variable (ContextVariableMap), not any
  const wrongVar: number = c.var.events;
  void [viaGet, wrongVar];
  return c.text("ok");
});

createServer(
  events.wrap((req, res) => {
    const context: RequestEvents = req.events;
    context.put({ event: "viewed" });
    // @ts-expect-error: req.events is typed by wrap()
    req.events.putt({ event: "viewed" });
    res.end("ok");
  }),
);

events.put({ event: "outside-a-request" });
// put() takes the Datasette row's fields only: what it would not record is a compile error.
// @ts-expect-error: a misspelt field
events.put({ evnt: "x" });
// @ts-expect-error: the event name is a string
events.put({ event: 1 });
// @ts-expect-error: a bare string is no event
events.put("signup");
// @ts-expect-error: actor_id is actorId in put()
events.put({ event: "ok", actor_id: "u1" });

// With a serializer of one's own, put() takes what it takes.
const custom = eventsForward({
  apiUrl: "https://example.com/data/-/create",
  serializer: (event: { kind: "click"; x: number }) => JSON.stringify(event),
});
custom.put({ kind: "click", x: 1 });
// @ts-expect-error: not what the serializer takes
custom.put({ event: "signup" });
export const results: [Promise<void>, Promise<CloseResult>, ForwarderStats] = [
  events.flush(),
  events.close({ timeoutMs: 5000 }),
  events.stats(),
];
