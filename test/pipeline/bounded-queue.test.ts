import express from "express";
import request from "supertest";
import { beforeEach, describe, expect, test } from "vitest";
import { EventQueueFullError } from "../../src/index.js";
import { logged, names, useLoopbackStore } from "../helpers/forward-to.js";
import { assertRate, watchForwarderStarts } from "../helpers/request-starts.js";
import { recordUncaught } from "../helpers/uncaught.js";
import { waitFor } from "../helpers/wait.js";

const t = useLoopbackStore();
let port: number;

beforeEach(async () => {
  port = t.store.port;
  await t.store.stop(); // the store is down
});

/** Puts each event; returns the names refused with EventQueueFullError (anything else fails). */
function putCounting(list: string[]): string[] {
  const refused: string[] = [];
  for (const event of list) {
    try {
      t.h.events.put({ event });
    } catch (error) {
      if (!(error instanceof EventQueueFullError)) throw error;
      refused.push(event);
    }
    expect(t.h.events.stats().queued).toBeLessThanOrEqual(5);
  }
  return refused;
}

describe("with the store down", () => {
  test("the queue stops at maxQueueSize; overflow is counted and logged once per episode", async () => {
    const h = t.forward({ maxQueueSize: 5, backoffMaxMs: 10 });
    const list = names("e", 1000);
    const refused = putCounting(list);
    expect(refused).toEqual(list.slice(5));
    expect(h.events.stats()).toMatchObject({ queued: 5, overflowed: 995, sent: 0, dropped: 0 });
    const full = logged(h, /queue is full/, "error");
    expect(full).toHaveLength(1);
    expect(full[0]).toContain("option maxQueueSize");

    await t.store.start(port);
    await h.events.flush();
    expect(t.store.events()).toEqual(list.slice(0, 5));

    // The episode ends when the queue accepts again, with the count of what it refused.
    h.events.put({ event: "after" });
    expect(logged(h, /accepts events again: 995 event\(s\) were refused/, "warn")).toHaveLength(1);
    await h.events.flush();
    expect(t.store.events()).toEqual([...list.slice(0, 5), "after"]);
  });

  test("a second outage is a second episode, reported again with its own count", async () => {
    const h = t.forward({ maxQueueSize: 5, backoffMaxMs: 10 });
    putCounting(names("first", 8));
    await t.store.start(port);
    await h.events.flush();
    h.events.put({ event: "ok-1" });
    await h.events.flush();
    await t.store.stop();
    putCounting(names("second", 6)); // ok-1 is delivered, so 5 fit and 1 is refused
    await t.store.start(port);
    await h.events.flush();
    h.events.put({ event: "ok-2" });
    expect(logged(h, /queue is full/, "error")).toHaveLength(2);
    expect(logged(h, /accepts events again: (\d+)/, "warn")).toEqual([
      expect.stringContaining("3 event(s) were refused"),
      expect.stringContaining("1 event(s) were refused"),
    ]);
    expect(h.events.stats().overflowed).toBe(4);
  });

  test("maxQueueBytes bounds the bytes as well as the count", async () => {
    const h = t.forward({ maxQueueSize: 1000, maxEventSize: 1000, maxQueueBytes: 3000 });
    const big = "x".repeat(700); // each event is ~870 bytes serialized: three fit in 3000
    let accepted = 0;
    let error: unknown;
    try {
      for (;;) {
        h.events.put({ event: "big", properties: { big } });
        accepted++;
      }
    } catch (e) {
      error = e;
    }
    expect(accepted).toBe(3);
    expect(error).toBeInstanceOf(EventQueueFullError);
    expect((error as Error).message).toContain("option maxQueueBytes");
    expect(h.events.stats()).toMatchObject({ queued: 3, overflowed: 1 });
  });

  test("request events refused by a full queue never fail the request; they are counted", async () => {
    // The refusal comes after the answer went out, in the response's close listener: the request
    // cannot fail any more, but an error thrown there would reach the process.
    const uncaught = recordUncaught();
    // Request events may fill 80% of the bound (4 of 5): the rest is for events handlers put.
    const h = t.forward({ maxQueueSize: 5, requestEvents: true, backoffMaxMs: 10 });
    const app = express();
    app.use(h.events);
    app.get("/", (_req, res) => {
      res.send("fine");
    });
    for (let i = 0; i < 10; i++) await request(app).get("/").expect(200, "fine");
    await waitFor(() => h.events.stats().overflowed === 6, { what: "six refused request events" });
    expect(h.events.stats().queued).toBe(4);
    expect(logged(h, /queue is full/, "error")).toHaveLength(1);
    expect(uncaught).toEqual([]);
  });
});

test("when the store comes back the backlog drains at the configured rate, in order, losing nothing", async () => {
  const watch = watchForwarderStarts();
  const h = t.forward({ maxQueueSize: 20, batchLimit: 2, maxRate: 2, timePeriod: 0.3 });
  const list = names("e", 20);
  for (const event of list) h.events.put({ event });
  await waitFor(() => h.events.stats().failedRequests >= 2, { what: "the held batch to be retried" });
  await t.store.start(port);
  await waitFor(() => h.events.stats().sent === 20, { what: "the backlog to drain", timeoutMs: 15_000 });
  watch.stop();
  expect(t.store.events()).toEqual(list);
  expect(t.store.requests).toHaveLength(10); // ten batches of two, each written once
  // Every request, the refused ones while down and the drain after, keeps to 2 per 300 ms.
  assertRate(watch.starts, 2, 300);
  expect(watch.starts.length).toBe(h.events.stats().requests);
  expect(h.events.stats()).toMatchObject({ sent: 20, dropped: 0, queued: 0, overflowed: 0 });
});
