// Type-level tests (vitest --typecheck runs them through tsc): importing the package types
// req.events (Express) and ctx.events (Koa) in the app's code, and eventsForward() is accepted
// by app.use() of both frameworks without a cast.
import express from "express";
import Koa from "koa";
import { describe, expectTypeOf, it } from "vitest";
import { eventsForward, type RequestEvents } from "../src/index.js";

const events = eventsForward({ apiUrl: "http://127.0.0.1:9/data/-/create" });

describe("declaration merging", () => {
  it("types req.events in Express handlers", () => {
    const app = express();
    app.use(events);
    app.post("/signup", (req, res) => {
      expectTypeOf(req.events).toEqualTypeOf<RequestEvents>();
      req.events.put({ event: "signup", actorId: "u1", properties: { plan: "pro" } });
      expectTypeOf(req.events.requestId).toEqualTypeOf<string>();
      // @ts-expect-error only the merged name is declared
      void req.eventz;
      res.sendStatus(201);
    });
  });

  it("types ctx.events in Koa middleware", () => {
    const app = new Koa();
    app.use(events);
    app.use(async (ctx) => {
      expectTypeOf(ctx.events).toEqualTypeOf<RequestEvents>();
      ctx.events.put({ event: "signup", properties: { plan: "pro" } });
    });
  });

  it("types put() input", () => {
    expectTypeOf(events.put).parameter(0).toMatchTypeOf<object>();
    expectTypeOf(events.close).returns.resolves.toEqualTypeOf<{ delivered: number; undelivered: number }>();
  });
});
