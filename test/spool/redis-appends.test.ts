// How the Redis spool's puts reach Redis (spool/redis/appends.ts): in groups, at once when a group
// is full, at most 5,000 events an append, and a group Redis refused before running the script
// goes again in smaller groups (one that got no answer goes again whole: test/spool/redis-history).
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { silentLogger } from "../../src/core/log.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { CountingConnection } from "../helpers/counting-connection.js";
import { numbered as event } from "../helpers/numbered-events.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

const open: RedisSpoolQueue[] = [];
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const server of servers.splice(0)) await server.dispose();
});

/** A writer (no lease) whose groups wait a minute unless full or committed. */
async function writer(): Promise<{ redis: RedisServer; queue: RedisSpoolQueue; appends: number[] }> {
  const redis = await RedisServer.start();
  servers.push(redis);
  const connection = new CountingConnection(redis.url, 2_000);
  const queue = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url: redis.url, key: "groups", leaseMs: 60_000, pollMs: 30_000, groupCommitMs: 60_000 }),
    { publisher: false, logger: silentLogger },
    connection,
  );
  open.push(queue);
  return { redis, queue, appends: connection.appends };
}

describe("the Redis spool's appends", () => {
  it("a group of 1,000 goes at once, without waiting for groupCommitMs", async () => {
    const { queue } = await writer();
    for (let n = 0; n < 999; n++) queue.push(event(n));
    queue.push(event(999));
    await waitFor(() => queue.stats().spooled === 1_000, { timeoutMs: 10_000, what: "the full group in Redis" });
  });

  it("carries at most 5,000 events an append, after answers as before them", async () => {
    const { redis, queue, appends } = await writer();
    // The first 1,000 go at once; the 8,000 put meanwhile follow, 5,000 at most an append.
    for (let n = 0; n < 9_000; n++) queue.push(event(n));
    await queue.commit();
    expect(appends).toEqual([1_000, 5_000, 3_000]);
    expect(await redis.cli("LLEN", "{groups}:events")).toBe("9000");
  });

  it("a group Redis refuses before running the script (out of memory) goes again in smaller groups; close() says it never reached Redis", async () => {
    const { redis, queue, appends } = await writer();
    await waitFor(async () => (await redis.cli("EXISTS", "{groups}:epoch")) === "1", { what: "the first heartbeat" });
    await redis.cli("CONFIG", "SET", "maxmemory", "1");
    // Ten events of 100 KB: 1 MB. Refused three times, the append's bound halves from 4 MB to 512 KB.
    for (let n = 0; n < 10; n++) queue.push(event(n, 100 * 1024));
    for (let i = 0; i < 3; i++) await queue.commit();
    expect(appends).toEqual([10, 10, 10]);
    await redis.cli("CONFIG", "SET", "maxmemory", "0");
    await queue.commit();
    // The next carries 512 KB: five of them (then twice that: the other five).
    expect(appends).toEqual([10, 10, 10, 5, 5]);
    expect(await redis.cli("LLEN", "{groups}:events")).toBe("10");

    await redis.cli("CONFIG", "SET", "maxmemory", "1");
    queue.push(event(10));
    await queue.commit();
    open.splice(open.indexOf(queue), 1);
    const unkept = await queue.close();
    expect(unkept?.events).toHaveLength(1);
    expect(unkept?.reason).toMatch(/: the events never reached it$/);
  });
});
