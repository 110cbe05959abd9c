import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisSpoolInspector, RedisDeliveryLog } from "../../src/spool/redis/status.js";
import { RedisRateWindow } from "../../src/spool/redis/rate-window.js";
import { spoolKeys } from "../../src/spool/redis/scripts.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { silentLogger } from "../../src/core/log.js";
import { numbered } from "../helpers/numbered-events.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

// What `events-forward status` reads of a Redis spool, written by the parts that write it, on a real redis-server.

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("the status of a Redis spool", () => {
  it("shows the waiting events and the oldest's age, the lease holder, the fleet's rate window, the last delivery and failure, and the holding state", async () => {
    const redis = await RedisServer.start();
    closers.push(() => redis.dispose());
    const options = resolveRedisSpoolOptions({ url: redis.url, key: "status", leaseMs: 1_000, pollMs: 20 });
    const queue = new RedisSpoolQueue(options, { publisher: true, logger: silentLogger });
    closers.push(() => queue.close());
    const inspector = new RedisSpoolInspector(new RedisConnection(redis.url, 2_000), "the spool", "status");
    closers.push(() => inspector.close());
    const log = new RedisDeliveryLog(queue.connection, "status");
    const window = new RedisRateWindow(
      queue.connection,
      spoolKeys("status"),
      new RateLimiter(5, 60_000),
      5,
      60_000,
      "p",
    );

    await waitFor(() => queue.publishing, { what: "the lease" });
    // The heartbeat's first read gives the spool its history: from then on the CLI finds it.
    await waitFor(() => inspector.exists(), { what: "the spool's history" });
    const old = { event: "old", created: new Date(Date.now() - 90_000).toISOString() };
    queue.push({ json: JSON.stringify(old), bytes: JSON.stringify(old).length });
    queue.push(numbered(1));
    await queue.commit();
    await window.acquire(true);
    await window.acquire(true);
    log.onRequest({ ok: false, reason: "Datasette answered HTTP 503", retry: true, status: 503 });
    log.onRequest({ ok: true });
    log.onHolding({ answer: "HTTP 401", reason: "the store refused the token", since: 1_700_000_000_000 });
    await waitFor(async () => (await inspector.status(60_000)).holding !== undefined, { what: "the holding state" });

    const status = await inspector.status(60_000);
    expect(status).toMatchObject({
      spool: "the spool",
      waiting: 2,
      lease: { host: hostname(), pid: process.pid },
      requestsInWindow: 2,
      lastDelivery: { outcome: "sent" },
      lastFailure: { outcome: "Datasette answered HTTP 503" },
      holding: { answer: "HTTP 401", reason: "the store refused the token", since: 1_700_000_000_000 },
      deadLetters: [],
    });
    expect(status.oldestAgeMs).toBeGreaterThanOrEqual(90_000);
    expect(status.lease.expires).toBeGreaterThan(Date.now());

    // The store takes events again: holding ends; the last failure stays for the record.
    log.onHolding(undefined);
    await waitFor(async () => (await inspector.status(60_000)).holding === undefined, { what: "holding to end" });
    expect((await inspector.status(60_000)).lastFailure).toMatchObject({ outcome: "Datasette answered HTTP 503" });
  });
  it("a key nobody used: exists() says so, and its status is empty; what the publisher writes is cut to 500 characters", async () => {
    const redis = await RedisServer.start();
    closers.push(() => redis.dispose());
    const connection = new RedisConnection(redis.url, 2_000);
    const inspector = new RedisSpoolInspector(connection, "the spool", "unused");
    closers.push(() => inspector.close());
    expect(await inspector.exists()).toBe(false);
    expect(await inspector.status(60_000)).toEqual({
      spool: "the spool",
      waiting: 0,
      oldestAgeMs: undefined,
      lease: {},
      lastDelivery: undefined,
      lastFailure: undefined,
      holding: undefined,
      requestsInWindow: 0,
      deadLetters: [],
    });

    const log = new RedisDeliveryLog(connection, "unused");
    log.onRequest({ ok: false, reason: `HTTP 503 ${"x".repeat(600)}`, retry: true, status: 503 });
    log.onHolding({ answer: "HTTP 401", reason: "y".repeat(600), since: 5 });
    await waitFor(async () => (await inspector.status(60_000)).holding !== undefined, { what: "the holding state" });
    const status = await inspector.status(60_000);
    expect(status.lastFailure?.outcome).toBe(`HTTP 503 ${"x".repeat(491)}`);
    expect(status.lastDelivery?.outcome).toBe(`HTTP 503 ${"x".repeat(491)}`);
    expect(status.lastFailure?.at).toBeGreaterThan(Date.now() - 60_000);
    expect(status.holding).toEqual({ answer: "HTTP 401", reason: "y".repeat(500), since: 5 });
    // The delivery log writes no history: the spool still counts as unused.
    expect(await inspector.exists()).toBe(false);

    // What another writer may have left: a holding state without a tab, a lease value that is not JSON, an event without a time.
    await redis.cli("HSET", "{unused}:delivery", "holding", "HTTP 403");
    await redis.cli("HDEL", "{unused}:delivery", "holdingSince", "lastOutcome");
    await redis.cli("SET", "{unused}:lease", "not json");
    await redis.cli("RPUSH", "{unused}:events", '{"event":"no time"}');
    const odd = await inspector.status(60_000);
    expect(odd.holding).toEqual({ answer: "HTTP 403", reason: "", since: 0 });
    expect(odd.lease).toEqual({});
    expect(odd.lastDelivery?.outcome).toBe("");
    expect(odd).toMatchObject({ waiting: 1, oldestAgeMs: undefined });

    await inspector.close(); // its connection with it
    await expect(connection.run("inspect", ["a", "b", "c", "d", "e"], [0])).rejects.toThrow();
  });

  it("the lease's end is now when Redis has no expiry left for it", async () => {
    const redis = await RedisServer.start();
    closers.push(() => redis.dispose());
    const inspector = new RedisSpoolInspector(new RedisConnection(redis.url, 2_000), "the spool", "held");
    closers.push(() => inspector.close());
    await redis.cli("SET", "{held}:lease", JSON.stringify({ id: "h:1:x", host: "h", pid: 1, since: 3 }));
    const now = Date.now();
    expect((await inspector.status(60_000, now)).lease).toEqual({
      holder: "h:1:x",
      host: "h",
      pid: 1,
      since: 3,
      expires: now,
    });
  });
});
