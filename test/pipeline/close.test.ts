import express from "express";
import request from "supertest";
import { describe, expect, test } from "vitest";
import { forwarderSettings } from "../helpers/fast-options.js";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { EventError, ForwarderClosedError } from "../../src/index.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { SendResult } from "../../src/pipeline/sink.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { useLoopbackStore } from "../helpers/forward-to.js";
import { waitFor } from "../helpers/wait.js";

const t = useLoopbackStore();

test("close() drains without waiting for the rate limit, and calling it twice gives the same answer", async () => {
  const h = t.forward({ maxRate: 1, timePeriod: 600, name: "billing" });
  h.events.put({ event: "first" });
  await waitFor(() => h.events.stats().sent === 1, { what: "the first request" });
  h.events.put({ event: "second" });
  h.events.put({ event: "third" });
  const [a, b] = await Promise.all([h.events.close(), h.events.close({ timeoutMs: 1 })]);
  expect(a).toEqual({ delivered: 3, undelivered: 0 });
  expect(b).toBe(a);
  expect(await h.events.close()).toBe(a);
  expect(t.store.events()).toEqual(["first", "second", "third"]);
});

test("put() after close() throws ForwarderClosedError, naming the forwarder", async () => {
  const h = t.forward({ name: "billing" });
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
  expect(t.store.requests).toHaveLength(0);
});

test("requests served after close() still succeed; their request events are refused quietly", async () => {
  const h = t.forward({ requestEvents: true });
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
  await waitFor(() => closes === 2, { what: "both responses closed" });
  expect(h.logger.messages).toEqual([]);
  expect(t.store.requests).toHaveLength(0);
});

describe("a durable queue (a spool) at the close() deadline", () => {
  class DurableQueue extends MemoryQueue {
    readonly durable = true;
  }

  test("keeps the batch cut short in flight and the rest, drops nothing, and counts them as undelivered", async () => {
    const drops: string[][] = [];
    let sends = 0;
    // A store that never answers: the first batch is in flight when the deadline comes.
    const sink = {
      description: "hanging sink",
      send: (_events: readonly QueuedEvent[], signal: AbortSignal) =>
        new Promise<SendResult>((resolve) => {
          sends++;
          signal.addEventListener("abort", () => resolve({ ok: false, retry: true, reason: "aborted" }));
        }),
    };
    const settings = {
      ...forwarderSettings(2),
      onDrop: (events: string[]) => drops.push(events),
    };
    const queue = new DurableQueue(10);
    const forwarder = new Forwarder({ settings, sink, queue, rateLimit: new RateLimiter(100, 0) });
    for (const n of [1, 2, 3, 4, 5]) forwarder.enqueue({ json: String(n), bytes: 1 });
    await waitFor(() => sends === 1, { what: "the first batch in flight" });
    await forwarder.stop(50);
    expect(forwarder.closeResult(await queue.close())).toEqual({ delivered: 0, undelivered: 5, spooled: 5 });
    expect(drops).toEqual([]);
    expect(queue.size).toBe(5);
    expect((await queue.take(10, 1e6)).map((event) => event.json)).toEqual(["1", "2", "3", "4", "5"]);
    expect(forwarder.stats().dropped).toBe(0);
  });
});
