// A backlog is reported before the queue is full: one warning when it passes half of its bound
// (events or bytes), one more when it is back under a quarter. And stats() states the capacity.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { EventQueueFullError, eventsForward } from "../../src/index.js";
import { CHANNELS } from "../../src/observe/channels.js";
import { logged, useLoopbackStore } from "../helpers/forward-to.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const t = useLoopbackStore();

/** Holds the store's answers until release() is called: the queue fills behind the batch in flight. */
function holdStore(): { release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  t.store.behave = async () => {
    await gate;
    return { accept: true };
  };
  return { release: () => release() };
}

const NOT_KEEPING_UP = /is not keeping up/;
const CAUGHT_UP = /caught up/;

describe("the backlog warning", () => {
  test("warns once when the queue passes half of maxQueueSize, and once when it is back under a quarter", async () => {
    const held = holdStore();
    const h = t.forward({ batchLimit: 5, maxRate: 4, timePeriod: 2, maxQueueSize: 20 });
    for (let i = 0; i < 10; i++) h.events.put({ event: `e${i}` });
    // Half (10 of 20) is not past half.
    expect(logged(h, NOT_KEEPING_UP)).toEqual([]);
    h.events.put({ event: "e10" });
    const [warning, ...more] = logged(h, NOT_KEEPING_UP, "warn");
    expect(more).toEqual([]);
    expect(warning).toContain("11 events");
    expect(warning).toContain("20 events");
    // The capacity, by the formula, and the options that raise it.
    expect(warning).toContain("at most 10 events/s (batchLimit × maxRate / timePeriod)");
    expect(warning).toMatch(/batchLimit.*maxRate.*timePeriod/);
    // Filling on to the bound: still one warning for the episode, and then the queue refuses.
    for (let i = 11; i < 20; i++) h.events.put({ event: `e${i}` });
    expect(() => h.events.put({ event: "refused" })).toThrow(EventQueueFullError);
    expect(logged(h, NOT_KEEPING_UP)).toHaveLength(1);
    expect(logged(h, CAUGHT_UP)).toEqual([]);

    held.release();
    await h.events.flush();
    const caughtUp = logged(h, CAUGHT_UP, "warn");
    expect(caughtUp).toHaveLength(1);
    expect(t.store.events()).toHaveLength(20);
  });

  test("stays quiet while the queue is between a quarter and a half, and warns again in a new episode", async () => {
    let held = holdStore();
    const h = t.forward({ batchLimit: 4, maxQueueSize: 16 });
    for (let i = 0; i < 9; i++) h.events.put({ event: `a${i}` });
    expect(logged(h, NOT_KEEPING_UP)).toHaveLength(1);
    // Let the batch in flight (4 events) through, then hold again: 5 wait, over a quarter (4) of 16.
    await waitFor(() => t.store.requests.length === 1, { what: "the first batch to be sent" });
    const release = held.release;
    held = holdStore();
    release();
    await waitFor(() => t.store.requests.length === 2, { what: "the next batch to be sent" });
    expect(t.store.events()).toHaveLength(4);
    expect(h.events.stats().queued).toBeGreaterThanOrEqual(4);
    expect(logged(h, CAUGHT_UP)).toEqual([]);
    held.release();
    await h.events.flush();
    expect(logged(h, CAUGHT_UP)).toHaveLength(1);

    // A new backlog is a new episode: warned again, once.
    held = holdStore();
    for (let i = 0; i < 12; i++) h.events.put({ event: `b${i}` });
    expect(logged(h, NOT_KEEPING_UP)).toHaveLength(2);
    held.release();
    await h.events.flush();
    expect(logged(h, CAUGHT_UP)).toHaveLength(2);
    expect(t.store.events()).toHaveLength(21);
  });

  test("counts bytes too: passing half of maxQueueBytes warns though the count is far from its bound", async () => {
    const held = holdStore();
    const filler = "x".repeat(900); // about 1,100 bytes a row: 4 rows under half of 10,000 bytes, 5 over
    const h = t.forward({ batchLimit: 2, maxQueueSize: 1_000, maxQueueBytes: 10_000, maxEventSize: 2_000 });
    for (let i = 0; i < 4; i++) h.events.put({ event: `big${i}`, properties: { filler } });
    expect(logged(h, NOT_KEEPING_UP)).toEqual([]);
    h.events.put({ event: "big4", properties: { filler } });
    const [warning] = logged(h, NOT_KEEPING_UP, "warn");
    expect(warning).toContain("5 events");
    expect(warning).toContain("10000 bytes");
    held.release();
    await h.events.flush();
    expect(logged(h, CAUGHT_UP)).toHaveLength(1);
    expect(logged(h, NOT_KEEPING_UP)).toHaveLength(1);
  });

  test("with a spool, the bound is spool.maxEvents, not maxQueueSize", async () => {
    const held = holdStore();
    const h = t.forward({
      batchLimit: 2,
      maxQueueSize: 10_000,
      spool: { path: join(tempDir(), "spool.db"), maxEvents: 10 },
    });
    for (let i = 0; i < 5; i++) h.events.put({ event: `s${i}` });
    expect(logged(h, NOT_KEEPING_UP)).toEqual([]);
    h.events.put({ event: "s5" });
    const [warning, ...more] = logged(h, NOT_KEEPING_UP, "warn");
    expect(more).toEqual([]);
    expect(warning).toContain("6 events");
    expect(warning).toContain("queue's bound (10 events)");
    held.release();
    await h.events.flush();
    expect(logged(h, CAUGHT_UP)).toHaveLength(1);
  });
});

describe("capacityPerSecond", () => {
  test("is batchLimit × maxRate / timePeriod", () => {
    const h = t.forward({ batchLimit: 30, maxRate: 4, timePeriod: 2 });
    expect(h.events.stats().capacityPerSecond).toBe(60);
  });

  test("is at least 1,000 events/s for Datasette with default options", async () => {
    const events = eventsForward({ apiUrl: t.store.url(), apiToken: "t", instance: "test", logger: false });
    try {
      expect(events.stats().capacityPerSecond).toBeGreaterThanOrEqual(1_000);
    } finally {
      await events.close();
    }
  });

  test("uses the lower row limit once the store has named its max_insert_rows", async () => {
    const tooMany = JSON.stringify({ ok: false, errors: ["Too many rows, maximum allowed is 3"], status: 400 });
    t.store.behave = (seen) => (seen.rows.length > 3 ? { status: 400, body: tooMany } : { accept: true });
    const h = t.forward({ batchLimit: 8, maxRate: 5, timePeriod: 1 });
    expect(h.events.stats().capacityPerSecond).toBe(40);
    for (let i = 0; i < 8; i++) h.events.put({ event: `e${i}` });
    await h.events.flush();
    expect(t.store.events()).toHaveLength(8);
    expect(h.events.stats().capacityPerSecond).toBe(15);
  });

  test("is Infinity without a rate limit (timePeriod 0)", () => {
    const h = t.forward({ timePeriod: 0 });
    expect(h.events.stats().capacityPerSecond).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("the backlog channel", () => {
  test("publishes each change of level with what waits and the bound, as the warning logs it", async () => {
    const seen: { level: string; waiting: number; bound: number }[] = [];
    const listen = (message: unknown) => seen.push(message as { level: string; waiting: number; bound: number });
    subscribe(CHANNELS.backlog, listen);
    try {
      const held = holdStore();
      const h = t.forward({ batchLimit: 5, maxRate: 4, timePeriod: 2, maxQueueSize: 20 });
      for (let i = 0; i < 11; i++) h.events.put({ event: `e${i}` });
      expect(seen.map(({ level, waiting, bound }) => ({ level, waiting, bound }))).toEqual([
        { level: "high", waiting: 11, bound: 20 },
      ]);
      held.release();
      await h.events.flush();
      expect(seen.map((m) => m.level)).toEqual(["high", "normal"]);
    } finally {
      unsubscribe(CHANNELS.backlog, listen);
    }
  });
});
