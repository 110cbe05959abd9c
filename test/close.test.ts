import express from "express";
import request from "supertest";
import { afterEach, beforeEach, expect, test } from "vitest";
import { EventError, ForwarderClosedError } from "../src/index.js";
import { forwardTo, type Harness } from "./helpers/forward-to.js";
import { TestStore } from "./helpers/test-store.js";
import { waitFor } from "./helpers/wait-for.js";

let store: TestStore;
let h: Harness;

beforeEach(async () => {
  store = await new TestStore().start();
});

afterEach(async () => {
  await h.events.close({ timeoutMs: 100 });
  await store.stop();
});

test("close() drains without waiting for the rate limit, and calling it twice gives the same answer", async () => {
  h = forwardTo(store, { maxRate: 1, timePeriod: 600, name: "billing" });
  h.events.put({ event: "first" });
  await waitFor(() => h.events.stats().sent === 1, "the first request");
  h.events.put({ event: "second" });
  h.events.put({ event: "third" });
  const [a, b] = await Promise.all([h.events.close(), h.events.close({ timeoutMs: 1 })]);
  expect(a).toEqual({ delivered: 3, undelivered: 0 });
  expect(b).toBe(a);
  expect(await h.events.close()).toBe(a);
  expect(store.events()).toEqual(["first", "second", "third"]);
});

test("put() after close() throws ForwarderClosedError, naming the forwarder", async () => {
  h = forwardTo(store, { name: "billing" });
  await h.events.close();
  let error: unknown;
  try {
    h.events.put({ event: "late" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ForwarderClosedError);
  expect(error).toBeInstanceOf(EventError);
  expect((error as Error).message).toBe('events-forward "billing" is closed: put() after close() is refused');
  expect(store.requests).toHaveLength(0);
});

test("requests served after close() still succeed; their request events are refused quietly", async () => {
  h = forwardTo(store, { requestEvents: true });
  let closes = 0;
  const app = express();
  app.use(h.events);
  // Registered after the middleware's own "close" listener, so it runs after the put it makes.
  app.use((_req, res, next) => {
    res.on("close", () => closes++);
    next();
  });
  app.get("/", (_req, res) => {
    res.send("ok");
  });
  await h.events.close();
  await request(app).get("/").expect(200, "ok");
  await request(app).get("/").expect(200, "ok");
  await waitFor(() => closes === 2, "both responses closed");
  expect(h.logger.messages).toEqual([]);
  expect(store.requests).toHaveLength(0);
});
