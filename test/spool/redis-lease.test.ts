// The Redis spool's publisher lease and the fleet's rate window, each on its own, against a real
// redis-server: what they write in Redis, when they make a round trip, and what they answer when
// Redis does not.
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisLease } from "../../src/spool/redis/lease.js";
import { RedisRateWindow } from "../../src/spool/redis/rate-window.js";
import { spoolKeys } from "../../src/spool/redis/scripts.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.dispose();
});

function connection(url = redis.url): RedisConnection {
  const made = new RedisConnection(url, 1_000);
  onCleanup(() => made.close());
  return made;
}

/** A connection whose commands all fail at once (it is closed). */
async function closedConnection(): Promise<RedisConnection> {
  const made = new RedisConnection(redis.url, 1_000);
  await made.run("leaseRelease", ["{unused}:lease"], ["nobody"]); // connected
  await made.close();
  return made;
}

let keyCount = 0;
const freshKeys = () => spoolKeys(`lease-${++keyCount}`);

describe("RedisLease", () => {
  it("takes a free lease, writes who holds it, and keeps it from a second process", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 5_000);
    const b = new RedisLease(connection(), keys, 5_000);
    expect(a.held()).toBe(false);
    const before = Date.now();
    expect(await a.refresh()).toBe(true);
    expect(a.held()).toBe(true);
    const holder = JSON.parse(await redis.cli("GET", keys.lease)) as Record<string, unknown>;
    expect(holder).toMatchObject({ id: a.holderId, host: hostname(), pid: process.pid });
    expect(holder.since).toBeGreaterThanOrEqual(before - 1_000);
    expect(a.holderId).toMatch(new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{8}$`));
    expect(Number(await redis.cli("PTTL", keys.lease))).toBeGreaterThan(4_000);

    expect(await b.refresh()).toBe(false);
    expect(b.held()).toBe(false);
    // A refresh by the holder soon after takes nothing new, and needs no round trip.
    expect(await a.refresh()).toBe(false);
    expect(a.held()).toBe(true);
  });

  it("renews the lease once a fifth of it has passed, without counting it as newly taken", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 1_000);
    expect(await a.refresh()).toBe(true);
    // Renewed only after leaseMs / 5: within it, the expiry in Redis stays where it was.
    await redis.cli("PEXPIRE", keys.lease, "600");
    expect(await a.refresh()).toBe(false);
    expect(Number(await redis.cli("PTTL", keys.lease))).toBeLessThanOrEqual(600);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await a.refresh()).toBe(false);
    expect(Number(await redis.cli("PTTL", keys.lease))).toBeGreaterThan(600);
    expect(a.held()).toBe(true);
  });

  it("counts the lease as lost when another process holds it, and as taken again when the key is gone", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 1_000);
    expect(await a.refresh()).toBe(true);
    await redis.cli("SET", keys.lease, JSON.stringify({ id: "other:1:x", host: "other", pid: 1, since: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 250)); // past a fifth: the next refresh asks Redis
    expect(await a.refresh()).toBe(false);
    expect(a.held()).toBe(false);
    await redis.cli("DEL", keys.lease);
    expect(await a.refresh()).toBe(true);
  });

  it("counts the lease as newly taken when Redis had lost it (the key gone), or when it had run out here but not in Redis", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 1_000);
    expect(await a.refresh()).toBe(true);
    await redis.cli("DEL", keys.lease); // Redis restarted empty, say: the claim takes it anew
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await a.refresh()).toBe(true);

    // Redis's expiry runs later than ours: once ours is over, the claim only renews in Redis, yet it is a new take here.
    await redis.cli("PEXPIRE", keys.lease, "10000");
    await waitFor(() => !a.held(), { what: "the lease to run out here" });
    expect(await a.refresh()).toBe(true);
    expect(a.held()).toBe(true);
  });

  it("held() ends leaseMs after the claim was sent, on its own", async () => {
    const a = new RedisLease(connection(), freshKeys(), 300);
    expect(await a.refresh()).toBe(true);
    await waitFor(() => !a.held(), { what: "the lease to run out" });
  });

  it("release() gives the lease up at once for another process; without the lease it makes no round trip", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 60_000);
    const b = new RedisLease(connection(), keys, 60_000);
    expect(await a.refresh()).toBe(true);
    await a.release();
    expect(a.held()).toBe(false);
    expect(await redis.cli("EXISTS", keys.lease)).toBe("0");
    expect(await b.refresh()).toBe(true);

    // Not held: nothing to send (a closed connection would refuse it).
    const idle = new RedisLease(await closedConnection(), keys, 60_000);
    await expect(idle.release()).resolves.toBeUndefined();
    await expect(idle.standDown()).resolves.toBeUndefined();
  });

  it("standDown() gives the lease up and does not take it again before a lease's length", async () => {
    const keys = freshKeys();
    const a = new RedisLease(connection(), keys, 400);
    expect(await a.refresh()).toBe(true);
    await a.standDown();
    expect(await redis.cli("EXISTS", keys.lease)).toBe("0");
    expect(await a.refresh()).toBe(false);
    expect(await redis.cli("EXISTS", keys.lease)).toBe("0");
    await waitFor(async () => await a.refresh(), { what: "the lease to be taken again after the rest" });
  });
});

describe("RedisRateWindow", () => {
  const full = () => {
    const local = new RateLimiter(1, 60_000);
    local.recordAt(Date.now());
    return local;
  };

  it("acquire() records each start in Redis; when the window is full it answers the wait and records nothing, unless forced", async () => {
    const keys = freshKeys();
    const local = new RateLimiter(5, 60_000);
    const window = new RedisRateWindow(connection(), keys, local, 2, 60_000, "p");
    expect(await window.delay()).toBe(0);
    expect(await redis.cli("ZCARD", keys.rate)).toBe("0"); // delay() only asks
    expect(await window.acquire(false)).toBe(0);
    expect(await window.acquire(false)).toBe(0);
    expect(await redis.cli("ZCARD", keys.rate)).toBe("2");
    expect(local.recent).toHaveLength(2); // the local record follows, for when Redis does not answer

    const wait = await window.acquire(false);
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(await window.delay()).toBeGreaterThan(59_000);
    expect(await redis.cli("ZCARD", keys.rate)).toBe("2");
    expect(local.recent).toHaveLength(2);

    expect(await window.acquire(true)).toBe(0);
    expect(await redis.cli("ZRANGE", keys.rate, "0", "-1")).toMatch(/^p:\d+\np:\d+$/);
    expect(local.recent).toHaveLength(3);
  });

  it("is one window for every holder: what another process started counts here", async () => {
    const keys = freshKeys();
    const a = new RedisRateWindow(connection(), keys, new RateLimiter(1, 60_000), 1, 60_000, "a");
    const local = new RateLimiter(1, 60_000);
    const b = new RedisRateWindow(connection(), keys, local, 1, 60_000, "b");
    expect(await a.acquire(false)).toBe(0);
    expect(await b.acquire(false)).toBeGreaterThan(0);
    expect(local.recent).toEqual([]);
  });

  it("timePeriod 0: no limit and no round trip", async () => {
    const keys = freshKeys();
    const window = new RedisRateWindow(connection(), keys, full(), 1, 0, "p");
    expect(await window.acquire(false)).toBe(0);
    expect(await window.acquire(false)).toBe(0);
    expect(await window.delay()).toBe(0);
    expect(await redis.cli("EXISTS", keys.rate)).toBe("0");
    const offline = new RedisRateWindow(await closedConnection(), keys, full(), 1, 0, "p");
    expect(await offline.delay()).toBe(0);
    expect(await offline.acquire(false)).toBe(0);
  });

  it("while Redis does not answer, limits by the process's own record", async () => {
    const offline = new RedisRateWindow(
      await closedConnection(),
      freshKeys(),
      new RateLimiter(1, 60_000),
      1,
      60_000,
      "p",
    );
    expect(await offline.delay()).toBe(0);
    expect(await offline.acquire(false)).toBe(0);
    expect(await offline.delay()).toBeGreaterThan(59_000);
    expect(await offline.acquire(false)).toBeGreaterThan(59_000);
    expect(await offline.acquire(true)).toBe(0);
  });
});
