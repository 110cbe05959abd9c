// Compiled (never run) by test/package.test.ts against the built package's declarations.
import express from "express";
import Koa from "koa";
import { eventsForward, RequestEvents, type CloseResult, type ForwarderStats } from "events-forward";

const events = eventsForward({ apiUrl: "https://example.com/data/-/create", apiToken: { $env: "FORWARD_TOKEN" }, instance: "web-1" });

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

events.put({ event: "outside-a-request" });
export const results: [Promise<void>, Promise<CloseResult>, ForwarderStats] = [events.flush(), events.close({ timeoutMs: 5000 }), events.stats()];
