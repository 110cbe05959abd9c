// The small parts that decide delivery, each on its own: the rate limiter's sliding log, the
// memory queue's bounds and batches, and the row limit a store teaches the forwarder.
import { describe, expect, it } from "vitest";
import { EventQueueFullError } from "../../src/index.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { Failure } from "../../src/pipeline/sink.js";
import { RowLimit } from "../../src/pipeline/row-limit.js";
import { recordingLogger } from "../helpers/recording-logger.js";

describe("RateLimiter", () => {
  it("lets maxRate requests start at once, then waits for the oldest to leave the window", () => {
    const limiter = new RateLimiter(2, 1_000);
    expect(limiter.delayAt(0)).toBe(0);
    limiter.recordAt(100);
    expect(limiter.delayAt(150)).toBe(0);
    limiter.recordAt(200);
    expect(limiter.delayAt(500)).toBe(600); // the start at 100 leaves the window at 1100
    expect(limiter.delayAt(1_100)).toBe(0);
    expect(limiter.delayAt(5_000)).toBe(0); // never negative
    limiter.recordAt(1_100);
    expect(limiter.recent).toEqual([200, 1_100]); // only the last maxRate are kept
    expect(limiter.delayAt(1_150)).toBe(50);
  });

  it("with maxRate 1, each request waits a whole period after the previous one", () => {
    const limiter = new RateLimiter(1, 300);
    limiter.recordAt(10);
    expect(limiter.delayAt(10)).toBe(300);
    expect(limiter.delayAt(309)).toBe(1);
    expect(limiter.delayAt(310)).toBe(0);
  });

  it("continues from another process's start times, keeping the newest maxRate", () => {
    const limiter = new RateLimiter(2, 1_000);
    const given = [1, 2, 3];
    limiter.load(given);
    expect(limiter.recent).toEqual([2, 3]);
    expect(limiter.delayAt(500)).toBe(502);
    limiter.recordAt(600);
    expect(given).toEqual([1, 2, 3]); // the caller's array is not the limiter's
    limiter.load([7]);
    expect(limiter.recent).toEqual([7]);
    expect(limiter.delayAt(8)).toBe(0);
  });
});

const event = (bytes: number, name = `e${bytes}`): QueuedEvent => ({ json: name, bytes });

describe("MemoryQueue", () => {
  it("holds at most maxSize events; settling a batch makes room", async () => {
    const queue = new MemoryQueue(2);
    queue.push(event(1, "a"));
    queue.push(event(1, "b"));
    expect(queue.size).toBe(2);
    let refused: unknown;
    try {
      queue.push(event(1, "c"));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(EventQueueFullError);
    expect((refused as EventQueueFullError).maxSize).toBe(2);
    expect((refused as EventQueueFullError).maxBytes).toBeUndefined();
    await queue.settle(await queue.take(1, Number.POSITIVE_INFINITY));
    expect(queue.size).toBe(1);
    queue.push(event(1, "c"));
    expect((await queue.take(5, Number.POSITIVE_INFINITY)).map((e) => e.json)).toEqual(["b", "c"]);
  });

  it("holds at most maxBytes bytes (up to exactly the bound); settling gives the bytes back", async () => {
    const queue = new MemoryQueue(100, 10);
    queue.push(event(6));
    queue.push(event(4)); // 10: at the bound is fine
    expect(() => queue.push(event(1))).toThrow(EventQueueFullError);
    try {
      queue.push(event(1));
    } catch (error) {
      expect((error as EventQueueFullError).maxBytes).toBe(10);
    }
    await queue.settle(await queue.take(1, Number.POSITIVE_INFINITY)); // the 6
    queue.push(event(6));
    expect(() => queue.push(event(1))).toThrow(EventQueueFullError);
    expect(queue.size).toBe(2);
  });

  it("take() gives the oldest events within maxCount and maxBytes, at least one, and removes nothing", async () => {
    const queue = new MemoryQueue(100);
    for (const name of ["a", "b", "c", "d"]) queue.push(event(3, name));
    const names = (batch: QueuedEvent[]) => batch.map((e) => e.json);
    expect(names(await queue.take(2, 100))).toEqual(["a", "b"]);
    expect(names(await queue.take(10, 6))).toEqual(["a", "b"]); // exactly maxBytes fits
    expect(names(await queue.take(10, 8))).toEqual(["a", "b"]);
    expect(names(await queue.take(10, 5))).toEqual(["a"]);
    expect(names(await queue.take(10, 1))).toEqual(["a"]); // one always goes, however large
    expect(names(await queue.take(10, 100))).toEqual(["a", "b", "c", "d"]);
    expect(queue.size).toBe(4);
    await queue.settle(await queue.take(3, 100));
    expect(names(await queue.take(10, 1))).toEqual(["d"]);
    expect(names(await queue.take(10, 6))).toEqual(["d"]);
    await queue.settle(await queue.take(10, 100));
    expect(queue.size).toBe(0);
    expect(await queue.take(10, 100)).toEqual([]);
  });

  it("keeps order and counts through many batches (its array is compacted now and then)", async () => {
    const queue = new MemoryQueue(10_000, 10_000);
    const out: string[] = [];
    let next = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 100; i++) queue.push(event(2, String(next++)));
      const batch = await queue.take(90, Number.POSITIVE_INFINITY);
      out.push(...batch.map((e) => e.json));
      await queue.settle(batch);
    }
    expect(queue.size).toBe(300);
    expect(() => queue.push(event(9_401))).toThrow(EventQueueFullError); // 600 bytes held + 9401 > 10000
    queue.push(event(9_400));
    const rest = await queue.take(1_000, Number.POSITIVE_INFINITY);
    out.push(...rest.slice(0, -1).map((e) => e.json));
    expect(out).toEqual(Array.from({ length: 3_000 }, (_, i) => String(i)));
  });

  it("does not keep settled events: its array stays short however many pass through", async () => {
    const queue = new MemoryQueue(5_000);
    // A backlog drained slowly, then steady traffic.
    for (let i = 0; i < 3_000; i++) queue.push(event(1));
    while (queue.size > 0) await queue.settle(await queue.take(10, Number.POSITIVE_INFINITY));
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 100; i++) queue.push(event(1));
      await queue.settle(await queue.take(100, Number.POSITIVE_INFINITY));
    }
    // A peek inside: 13,000 events went through; an array that kept them would be a leak.
    const held = (queue as unknown as { items: unknown[] }).items.length;
    expect(held).toBeLessThan(2_500);
    expect(queue.size).toBe(0);
  });
});

describe("RowLimit", () => {
  const refusal = (maxRows?: number): Failure => ({
    ok: false,
    retry: false,
    splittable: true,
    status: 400,
    reason: "too many rows",
    maxRows,
  });

  it("is batchLimit until a store names a lower limit; then cuts batches to it, warning once per limit", () => {
    const logger = recordingLogger();
    const limit = new RowLimit(10, logger, "the store");
    expect(limit.value).toBe(10);
    expect(limit.cut(["a", "b", "c", "d", "e"], refusal(2))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(limit.value).toBe(2);
    expect(logger.messages).toEqual([
      expect.stringMatching(/^warn: the store accepts at most 2 rows per write .*batches are cut to 2 rows/),
    ]);
    expect(limit.cut(["a", "b", "c"], refusal(2))).toEqual([["a", "b"], ["c"]]);
    expect(logger.messages).toHaveLength(1); // the same limit again: no new warning
    // A higher limit (another store's answer, say) cuts that batch but never raises what it learned.
    expect(limit.cut(["a", "b", "c", "d"], refusal(3))).toEqual([["a", "b", "c"], ["d"]]);
    expect(limit.value).toBe(2);
    expect(logger.messages).toHaveLength(1);
    expect(limit.cut(["a", "b"], refusal(1))).toEqual([["a"], ["b"]]);
    expect(limit.value).toBe(1);
    expect(logger.messages).toHaveLength(2);
  });

  it("is not the answer for other failures, nonsense limits, or a batch already within the limit", () => {
    const limit = new RowLimit(10, recordingLogger(), "the store");
    expect(limit.cut(["a", "b"], refusal(undefined))).toBeUndefined();
    expect(limit.cut(["a", "b"], refusal(0))).toBeUndefined();
    expect(limit.cut(["a", "b"], refusal(-1))).toBeUndefined();
    expect(limit.cut(["a", "b"], refusal(2))).toBeUndefined(); // refused, yet within its own limit
    expect(limit.cut(["a", "b"], refusal(5))).toBeUndefined();
    expect(limit.value).toBe(10);
    expect(limit.cut(["a", "b", "c"], refusal(2))).toEqual([["a", "b"], ["c"]]);
  });

  it("never goes above batchLimit", () => {
    const limit = new RowLimit(3, recordingLogger(), "the store");
    expect(limit.cut(["a", "b", "c", "d", "e", "f"], refusal(5))).toEqual([["a", "b", "c", "d", "e"], ["f"]]);
    expect(limit.value).toBe(3);
  });
});
