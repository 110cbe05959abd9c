import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisDeadLetters } from "../../src/spool/redis/dead-letters.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { startStallProxy, type StallProxy } from "../helpers/stall-proxy.js";
import { waitFor } from "../helpers/wait.js";
import { numbered as event, numbersOf as ns } from "../helpers/numbered-events.js";

// A dropped batch leaves the Redis outbox and enters the dead letters in one script: whatever
// happens between the drop and its acknowledgement, each event ends up in exactly one place.

const open: RedisSpoolQueue[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const close of closers.splice(0)) await close();
});

function spool(url: string, publisher = true): RedisSpoolQueue {
  const queue = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url, key: "dead", leaseMs: 500, pollMs: 20, maxDeadLetters: 100 }),
    { publisher, logger: recordingLogger() },
  );
  open.push(queue);
  return queue;
}

const REFUSED = { answer: "Datasette answered HTTP 400: Row 0 has invalid columns: colour", status: 400, attempts: 1 };

async function setUp(): Promise<{ redis: RedisServer; proxy: StallProxy; dead: RedisDeadLetters }> {
  const redis = await RedisServer.start();
  const proxy = await startStallProxy(redis.port);
  const dead = new RedisDeadLetters(new RedisConnection(redis.url, 2_000), "dead");
  closers.push(async () => {
    await dead.close();
    await proxy.close();
    await redis.dispose();
  });
  return { redis, proxy, dead };
}

describe("dead letters in the Redis spool", () => {
  it("a publisher cut off between a drop and its acknowledgement: the next holder drops the batch again, and each event is kept once, none left in the outbox", async () => {
    const { redis, proxy, dead } = await setUp();
    const a = spool(`redis://${proxy.address}`);
    await waitFor(() => a.publishing, { what: "a to take the lease" });
    const b = spool(redis.url);
    for (let n = 0; n < 5; n++) a.push(event(n));
    await a.commit();
    const batch = await a.take(3, Number.POSITIVE_INFINITY);
    expect(ns(batch)).toEqual([0, 1, 2]);

    // a gives the batch up, but its connection stalls before the move reaches Redis.
    proxy.stall();
    void a.keepDead(batch, REFUSED);
    await a.settle(batch);
    expect(await dead.list()).toEqual([]);
    expect(await redis.cli("LLEN", "{dead}:events")).toBe("5");

    // b takes over and meets the same batch: refused again, kept, removed, in one step.
    await waitFor(() => b.publishing, { timeoutMs: 5_000, what: "b to take the lease over" });
    const again = await b.take(3, Number.POSITIVE_INFINITY);
    expect(ns(again)).toEqual([0, 1, 2]);
    await b.keepDead(again, REFUSED);
    await b.settle(again);
    await waitFor(async () => (await redis.cli("LLEN", "{dead}:events")) === "2", { what: "b's move" });

    // a comes back and sends its move late: nothing is kept twice, nothing else removed.
    proxy.resume();
    await a.close();
    const kept = await dead.list();
    expect(ns(kept)).toEqual([0, 1, 2]);
    expect(kept[0]).toMatchObject({ reason: "HTTP 400", status: 400, attempts: 1, answer: REFUSED.answer });
    const left = (await redis.cli("LRANGE", "{dead}:events", "0", "-1")).split("\n");
    expect(ns(left.map((json) => ({ json })))).toEqual([3, 4]);
    expect(await dead.byReason()).toMatchObject([{ reason: "HTTP 400", count: 3 }]);
  }, 30_000);

  it("a publisher that dies after a drop, before its acknowledgement, leaves the batch in the outbox and keeps no dead letter for it", async () => {
    const { redis, proxy, dead } = await setUp();
    const a = spool(`redis://${proxy.address}`);
    await waitFor(() => a.publishing, { what: "a to take the lease" });
    for (let n = 0; n < 3; n++) a.push(event(n));
    await a.commit();
    const batch = await a.take(3, Number.POSITIVE_INFINITY);
    // Dies: nothing it does after the drop reaches Redis.
    proxy.stall();
    void a.keepDead(batch, REFUSED);
    await a.settle(batch);
    await proxy.close();
    await a.close();
    expect(await dead.list()).toEqual([]);
    expect(await redis.cli("LLEN", "{dead}:events")).toBe("3");
    // The next publisher sends them again; replaying puts back what it keeps, with the same texts.
    const b = spool(redis.url);
    await waitFor(() => b.publishing, { timeoutMs: 5_000, what: "b to take the lease" });
    const again = await b.take(3, Number.POSITIVE_INFINITY);
    await b.keepDead(again, REFUSED);
    await b.settle(again);
    await waitFor(async () => (await dead.list()).length === 3, { what: "b's dead letters" });
    expect(await redis.cli("LLEN", "{dead}:events")).toBe("0");
    expect(await dead.replay({ reason: "invalid columns" })).toBe(3);
    expect(await dead.list()).toEqual([]);
    expect(ns(await b.take(10, Number.POSITIVE_INFINITY))).toEqual([0, 1, 2]);
  }, 30_000);

  it("two moves of one dropped batch never disagree: when keepDead answers false (Redis refused its move), the batch is still in the outbox, moved by no later move", async () => {
    const redis = await RedisServer.start();
    closers.push(() => redis.dispose());
    // The second move script sent waits until the test lets it go: it would reach Redis after the refusal ended.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let moves = 0;
    class GatedConnection extends RedisConnection {
      override async run(...call: Parameters<RedisConnection["run"]>): Promise<unknown> {
        if (call[0] === "keepDead" && ++moves === 2) await gate;
        return super.run(...call);
      }
    }
    const queue = new RedisSpoolQueue(
      resolveRedisSpoolOptions({ url: redis.url, key: "dead", leaseMs: 60_000, pollMs: 30_000 }),
      { publisher: true, logger: recordingLogger() },
      new GatedConnection(redis.url, 2_000),
    );
    open.push(queue);
    await waitFor(() => queue.publishing, { what: "the lease" });
    queue.push(event(0));
    await queue.commit();
    const batch = await queue.take(1, Number.POSITIVE_INFINITY);
    // A key of another type where the dead letters go: the move fails on it.
    await redis.cli("SET", "{dead}:dead", "in the way");
    const kept = queue.keepDead(batch, REFUSED);
    // A take meanwhile (or the acknowledgement timer) moves what is pending first.
    const taken = queue.take(1, Number.POSITIVE_INFINITY);
    expect(await kept).toBe(false);
    await redis.cli("DEL", "{dead}:dead");
    release();
    expect(ns(await taken)).toEqual([0]);
    expect(await redis.cli("LLEN", "{dead}:events")).toBe("1");
    expect(await redis.cli("EXISTS", "{dead}:dead")).toBe("0");
    // Tried again, it is kept, once.
    expect(await queue.keepDead(await taken, REFUSED)).toBe(true);
    expect(await redis.cli("LLEN", "{dead}:events")).toBe("0");
    expect(await redis.cli("HLEN", "{dead}:dead")).toBe("1");
  });
});
