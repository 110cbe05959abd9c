// The table of queue kinds (spool/kinds.ts) and each kind's maker: what the root gets for the
// options it was given. The memory queue with and without option deadLetter, the SQLite spool's
// dead letters in its own file, the Redis spool's fleet-wide rate window (its period, and the
// names two publishers in turn give their requests in it).
import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveOptions } from "../../src/config/resolve.js";
import { OptionError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/log.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { EventsForwardOptions } from "../../src/config/options.js";
import type { MadeQueue } from "../../src/spool/kind.js";
import { createQueue } from "../../src/spool/kinds.js";
import { createRedisSpool } from "../../src/spool/redis/kind.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { createSqliteSpool } from "../../src/spool/sqlite/kind.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const API_URL = "http://127.0.0.1:9/db/-/create";
const made: MadeQueue[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const queue of made.splice(0)) {
    await queue.queue.close();
    queue.observer?.close();
    await queue.deadLetters?.close();
  }
  for (const close of closers.splice(0)) await close();
});

function make(options: EventsForwardOptions): MadeQueue {
  const o = resolveOptions({ apiUrl: API_URL, logger: silentLogger, ...options });
  const queue = createQueue(o, new RateLimiter(o.maxRate, o.timePeriod * 1000));
  made.push(queue);
  return queue;
}

/** The error a call throws (or rejects with). */
async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("it did not throw");
}

describe("memory", () => {
  it("a bounded array and the root's own limiter; no dead letters without option deadLetter", () => {
    const o = resolveOptions({ apiUrl: API_URL, maxQueueSize: 3, logger: silentLogger });
    const limiter = new RateLimiter(o.maxRate, o.timePeriod * 1000);
    const { queue, rateLimit, deadLetters } = createQueue(o, limiter);
    expect(queue).toBeInstanceOf(MemoryQueue);
    expect(rateLimit).toBe(limiter);
    expect(deadLetters).toBeUndefined();
    for (let n = 0; n < 3; n++) queue.push({ json: String(n), bytes: 1 });
    expect(() => queue.push({ json: "3", bytes: 1 })).toThrow(/full/);
  });

  it("with option deadLetter, dead letters in that file; a file it cannot use is named by that option", async () => {
    const path = join(tempDir(), "dead.db");
    const { deadLetters } = make({ deadLetter: path });
    expect(deadLetters).toBeInstanceOf(SqliteDeadLetters);
    expect((deadLetters as SqliteDeadLetters).path).toBe(path);
    expect(await deadLetters!.list()).toEqual([]);

    const later = join(tempDir(), "later.db");
    const broken = make({ deadLetter: later });
    // Options check the path at start-up; the file is opened on first use: make it unusable between.
    mkdirSync(later);
    const error = await errorOf(() => broken.deadLetters!.list());
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe("deadLetter");
  });
});

describe("SQLite spool", () => {
  it("refuses options that name no SQLite spool", () => {
    const o = resolveOptions({ apiUrl: API_URL, logger: silentLogger });
    expect(() => createSqliteSpool(o, new RateLimiter(1, 1000))).toThrow(
      "spool/sqlite: the options name no SQLite spool",
    );
  });

  it("keeps its dead letters in the spool file; a file it cannot use is named by option spool", async () => {
    const path = join(tempDir(), "spool.db");
    const { queue, deadLetters } = make({ spool: { path } });
    expect(queue.durable).toBe(true);
    expect(deadLetters).toBeInstanceOf(SqliteDeadLetters);
    expect((deadLetters as SqliteDeadLetters).path).toBe(path);
    // The queue holds the file open; the dead letters open it on first use: take it away between.
    renameSync(path, `${path}.moved`);
    mkdirSync(path);
    const error = await errorOf(() => deadLetters!.list());
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe("spool");
  });
});

describe("Redis spool", () => {
  async function redisServer(): Promise<RedisServer> {
    const redis = await RedisServer.start();
    closers.push(() => redis.dispose());
    return redis;
  }

  it("refuses options that name no Redis spool", () => {
    const o = resolveOptions({ apiUrl: API_URL, logger: silentLogger });
    expect(() => createRedisSpool(o, new RateLimiter(1, 1000))).toThrow("spool/redis: the options name no Redis spool");
  });

  it("a process that only writes to the spool has a queue, a rate window and dead letters too", async () => {
    const redis = await redisServer();
    const { queue, rateLimit, deadLetters } = make({ publisher: false, spool: { url: redis.url, key: "writer" } });
    expect(queue.publishing).toBe(false);
    queue.push({ json: '{"id":"1"}', bytes: 10 });
    await queue.commit();
    expect(await rateLimit.delay()).toBe(0);
    expect(await deadLetters!.list()).toEqual([]);
  });

  it("its rate window is timePeriod long, in seconds", async () => {
    const redis = await redisServer();
    const { queue, rateLimit } = make({ maxRate: 1, timePeriod: 2, spool: { url: redis.url, key: "period" } });
    await waitFor(() => queue.publishing, { what: "the publisher lease" });
    expect(await rateLimit.acquire(false)).toBe(0);
    const wait = await rateLimit.delay();
    expect(wait).toBeGreaterThan(1_000);
    expect(wait).toBeLessThanOrEqual(2_000);
  });

  it("two publishers in turn share one window: the second's requests do not take the place of the first's", async () => {
    const redis = await redisServer();
    const options = { maxRate: 2, timePeriod: 60, spool: { url: redis.url, key: "turns", leaseMs: 1_000 } };
    const first = make(options);
    await waitFor(() => first.queue.publishing, { what: "the first publisher's lease" });
    expect(await first.rateLimit.acquire(false)).toBe(0);
    await first.queue.close(); // gives the lease up

    const second = make(options);
    await waitFor(() => second.queue.publishing, { what: "the second publisher's lease" });
    expect(await second.rateLimit.acquire(false)).toBe(0);
    // Two of two slots taken in this minute, one by each publisher.
    expect(await second.rateLimit.acquire(false)).toBeGreaterThan(0);
  });
});
