// The Redis spool queue's own bookkeeping (spool/redis/spool.ts), each part on its own against a
// real redis-server: the in-memory bounds of push(), the wake-up when another process's events
// arrive, the acknowledgement timer, and close() called twice.
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { EventQueueFullError, SpoolUnwritableError } from "../../src/core/errors.js";
import { RedisSpoolQueue, MAX_BUFFERED } from "../../src/spool/redis/spool.js";
import { numbered as event, numbersOf } from "../helpers/numbered-events.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { startStallProxy } from "../helpers/stall-proxy.js";
import { waitFor } from "../helpers/wait.js";

const open: RedisSpoolQueue[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const close of closers.splice(0)) await close();
});

async function server(): Promise<RedisServer> {
  const redis = await RedisServer.start();
  closers.push(() => redis.dispose());
  return redis;
}

function queue(url: string, options: object = {}, publisher = false): RedisSpoolQueue {
  const made = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url, key: "parts", leaseMs: 1_000, pollMs: 20, groupCommitMs: 60_000, ...options }),
    { publisher, logger: recordingLogger() },
  );
  open.push(made);
  return made;
}

describe("the Redis spool queue's bookkeeping", () => {
  it("refuses a put once what waits (in Redis and in memory) reaches spool.maxEvents, before Redis is asked", async () => {
    const redis = await server();
    const writer = queue(redis.url, { maxEvents: 5 });
    for (let n = 0; n < 5; n++) writer.push(event(n));
    expect(() => writer.push(event(5))).toThrow(EventQueueFullError);
    expect(() => writer.push(event(5))).toThrow(/spool\.maxEvents/);
  });

  it("while Redis has not answered, keeps up to MAX_BUFFERED puts in memory, then refuses them, saying Redis is slower than the app", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.unshift(() => proxy.close());
    const writer = queue(`redis://${proxy.address}`, { leaseMs: 10_000, pollMs: 5_000 });
    await waitFor(async () => (await redis.cli("EXISTS", "{parts}:epoch")) === "1", { what: "the first heartbeat" });
    proxy.stall();
    for (let n = 0; n < MAX_BUFFERED; n++) writer.push(event(n));
    let refused: unknown;
    try {
      writer.push(event(MAX_BUFFERED));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SpoolUnwritableError);
    expect((refused as Error).message).toMatch(/Redis takes events slower than the app puts them/);
    proxy.resume();
  });

  it("wakes its publisher when another process's events arrive", async () => {
    const redis = await server();
    const publisher = queue(redis.url, {}, true);
    let woken = 0;
    publisher.onAvailable(() => woken++);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    const writer = queue(redis.url);
    writer.push(event(1));
    await writer.commit();
    await waitFor(() => woken > 0, { what: "the publisher woken" });
    expect(numbersOf(await publisher.take(10, Number.POSITIVE_INFINITY))).toEqual([1]);
  });

  it("removes a settled batch from Redis within groupCommitMs, with no further take", async () => {
    const redis = await server();
    // No heartbeat meanwhile (it would remove the batch too): the first takes the lease, the next comes in 5 s.
    const publisher = queue(redis.url, { groupCommitMs: 50, leaseMs: 10_000, pollMs: 5_000 }, true);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    for (let n = 0; n < 3; n++) publisher.push(event(n));
    await publisher.commit();
    const batch = await publisher.take(2, Number.POSITIVE_INFINITY);
    await publisher.settle(batch);
    await waitFor(async () => (await redis.cli("LLEN", "{parts}:events")) === "1", {
      timeoutMs: 2_000,
      what: "the settled batch removed",
    });
  });

  it("close() twice: the second does nothing and reports nothing", async () => {
    const redis = await server();
    const writer = queue(redis.url);
    open.splice(open.indexOf(writer), 1);
    writer.push(event(0));
    expect(await writer.close()).toBeUndefined();
    expect(await writer.close()).toBeUndefined();
    expect(await redis.cli("LLEN", "{parts}:events")).toBe("1");
  });
});
