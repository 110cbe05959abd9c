import express from "express";
import request from "supertest";
import { describe, expect, test } from "vitest";
import { EventQueueFullError, type EventsForward } from "../../src/index.js";
import { useLoopbackStore } from "../helpers/forward-to.js";
import { waitFor } from "../helpers/wait.js";

// Issue 28, item 9: traffic that fills the queue with request events must not make a handler's
// own put() throw: a share of the bound is kept for the events handlers put.

const t = useLoopbackStore();

/** An app whose /buy handler puts a business event and answers 500 if put() throws. */
function app(events: EventsForward): express.Express {
  const server = express();
  server.use(events);
  server.get("/", (_req, res) => {
    res.send("ok");
  });
  server.post("/buy", (req, res) => {
    try {
      (req as unknown as { events: EventsForward }).events.put({ event: "purchase" });
      res.send("ok");
    } catch (error) {
      res.status(error instanceof EventQueueFullError ? 503 : 500).send(String(error));
    }
  });
  return server;
}

describe("the queue's bound, under traffic", () => {
  test("request events stop at 80% of maxQueueSize; the rest is for events handlers put", async () => {
    // Nothing is sent: no batch fills, and the fill wait is an hour.
    const { events } = t.forward({ requestEvents: true, maxQueueSize: 10, batchLimit: 1000, batchWaitMs: 3_600_000 });
    const server = app(events);
    for (let i = 0; i < 20; i++) await request(server).get("/").expect(200);
    await waitFor(() => events.stats().overflowed === 12, { what: "12 request events refused" });
    expect(events.stats().queued).toBe(8);
    // Handlers' puts still find room, while their requests' own events are refused.
    await request(server).post("/buy").expect(200);
    await request(server).post("/buy").expect(200);
    expect(events.stats().queued).toBe(10);
    // Past the whole bound, put() throws as before: the handler decides (here: a 503).
    await request(server).post("/buy").expect(503);
  });

  test("the share counts bytes too (maxQueueBytes)", async () => {
    const { events } = t.forward({
      requestEvents: true,
      maxEventSize: 1_000,
      maxQueueBytes: 2_000,
      batchLimit: 1000,
      batchWaitMs: 3_600_000,
    });
    const server = app(events);
    for (let i = 0; i < 20; i++) await request(server).get("/").expect(200);
    await waitFor(() => events.stats().overflowed > 0, { what: "request events refused" });
    const queuedByRequests = events.stats().queued;
    await request(server).post("/buy").expect(200);
    expect(events.stats().queued).toBe(queuedByRequests + 1);
  });
});
