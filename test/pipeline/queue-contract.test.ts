import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/log.js";
import { resolveSpoolOptions } from "../../src/config/spool-options.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import type { EventQueue, QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { SpoolQueue } from "../../src/spool/sqlite/spool.js";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const open: EventQueue[] = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
});
let redis: RedisServer;
beforeAll(async () => (redis = await RedisServer.start()));
afterAll(() => redis?.dispose());
let spools = 0;

/**
 * Every queue kind, made as the root makes it; each must keep the whole contract. `place` names
 * where a durable queue keeps its events: the same place is the same spool.
 */
const KINDS: { name: string; durable: boolean; place: () => string; make: (place: string) => EventQueue }[] = [
  { name: "memory", durable: false, place: () => "", make: () => new MemoryQueue(100) },
  {
    name: "SQLite spool",
    durable: true,
    place: () => join(tempDir(), "spool.db"),
    make: (path) =>
      new SpoolQueue(resolveSpoolOptions({ path, pollMs: 10 }), {
        publisher: true,
        limiter: new RateLimiter(1, 1),
        logger: silentLogger,
      }),
  },
  {
    name: "Redis spool",
    durable: true,
    place: () => `contract-${++spools}`,
    make: (key) =>
      new RedisSpoolQueue(resolveRedisSpoolOptions({ url: redis.url, key, leaseMs: 1_000, pollMs: 10 }), {
        publisher: true,
        logger: silentLogger,
      }),
  },
];

/** An event whose text is `bytes` long (at least its bare `{"n":N}`), as the contract says a QueuedEvent's is. */
const event = (n: number, bytes = 10): QueuedEvent => {
  const bare = JSON.stringify({ n, p: "" });
  const json = JSON.stringify({ n, p: "x".repeat(Math.max(0, bytes - bare.length)) });
  return { json, bytes: Buffer.byteLength(json) };
};
const texts = (batch: readonly QueuedEvent[]) => batch.map((e) => (JSON.parse(e.json) as { n: number }).n);

describe.each(KINDS)("the queue contract: $name", ({ durable, place, make }) => {
  async function ready(where = place()): Promise<EventQueue> {
    const queue = make(where);
    open.push(queue);
    await waitFor(() => queue.publishing, { what: "the queue to let this process publish" });
    return queue;
  }

  it("says whether what is left outlives the process", async () => {
    expect((await ready()).durable).toBe(durable);
  });

  it("gives events back in the order they came, a batch from the front at a time, removing only what was settled", async () => {
    const queue = await ready();
    for (const n of [1, 2, 3, 4, 5]) queue.push(event(n));
    expect(queue.size).toBe(5);
    const first = await queue.take(2, 1e6);
    expect(texts(first)).toEqual([1, 2]);
    // Taking again before settling gives the same front.
    expect(texts(await queue.take(2, 1e6))).toEqual(texts(first));
    await queue.settle(first);
    expect(queue.size).toBe(3);
    expect(texts(await queue.take(10, 1e6))).toEqual([3, 4, 5]);
  });

  it("cuts a batch at maxBytes, but always gives at least one event", async () => {
    const queue = await ready();
    queue.push(event(1, 40));
    queue.push(event(2, 40));
    queue.push(event(3, 40));
    expect(texts(await queue.take(10, 85))).toEqual([1, 2]);
    expect(texts(await queue.take(10, 1))).toEqual([1]);
  });

  it("takes nothing from an empty queue", async () => {
    const queue = await ready();
    expect(await queue.take(10, 1e6)).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it("commits and closes without losing what it was given; close() twice is harmless", async () => {
    const where = place();
    const queue = await ready(where);
    queue.push(event(1));
    queue.push(event(2));
    await queue.commit();
    expect(queue.size).toBe(2);
    await queue.settle(await queue.take(1, 1e6));
    // Nothing unkept: a durable queue kept it, memory hands what is left to the forwarder's drain.
    expect(await queue.close()).toBeUndefined();
    expect(await queue.close()).toBeUndefined();
    if (!durable) return;
    // Opened again, it holds what was committed and not settled: no more, no less.
    const reopened = await ready(where);
    expect(reopened.size).toBe(1);
    expect(texts(await reopened.take(10, 1e6))).toEqual([2]);
  });

  it("reports what it adds to stats() as plain data", async () => {
    const queue = await ready();
    queue.push(event(1));
    await queue.commit();
    const stats = queue.stats();
    if (durable) expect(stats).toMatchObject({ spooled: 1, buffered: 0, publisher: true });
    else expect(stats).toEqual({});
  });
});

describe("the memory queue's bounds", () => {
  it("refuses an event past its count or its bytes with EventQueueFullError, keeping what it holds", async () => {
    const byCount = new MemoryQueue(2);
    byCount.push(event(1));
    byCount.push(event(2));
    expect(() => byCount.push(event(3))).toThrow(/holds 2 events/);
    const byBytes = new MemoryQueue(100, 28);
    byBytes.push(event(1));
    byBytes.push(event(2));
    expect(() => byBytes.push(event(3))).toThrow(/take 28 bytes/);
    expect(texts(await byBytes.take(10, 1e6))).toEqual([1, 2]);
  });
});
