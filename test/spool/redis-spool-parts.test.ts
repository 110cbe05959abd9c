// The Redis spool queue's own bookkeeping (spool/redis/spool.ts), each part on its own against a
// real redis-server: the in-memory bounds of push(), the group-commit timer, the wake-ups, the
// heartbeat's reports, the acknowledgement timer, standing down, and close().
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { EventQueueFullError, SpoolUnwritableError } from "../../src/core/errors.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
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

function queue(
  url: string,
  options: object = {},
  publisher = false,
  logger = recordingLogger(),
  connection?: RedisConnection,
): RedisSpoolQueue {
  const made = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url, key: "parts", leaseMs: 1_000, pollMs: 20, groupCommitMs: 60_000, ...options }),
    { publisher, logger },
    connection,
  );
  open.push(made);
  return made;
}

/** A connection that counts the heartbeat's reads (and every other front read): beats can be waited for. */
class FrontCounting extends RedisConnection {
  fronts = 0;
  override run(...call: Parameters<RedisConnection["run"]>): Promise<unknown> {
    if (call[0] === "front") this.fronts++;
    return super.run(...call);
  }
}

/** Waits for `n` more of the queue's reads from Redis (heartbeats, when nothing else reads). */
async function beats(connection: FrontCounting, n: number): Promise<void> {
  const target = connection.fronts + n;
  await waitFor(() => connection.fronts >= target, { what: `${n} heartbeats` });
}

const lines = (logger: { messages: string[] }, pattern: RegExp) => logger.messages.filter((m) => pattern.test(m));

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

  it("sends a group after groupCommitMs without a commit() call, even while puts keep coming", async () => {
    const redis = await server();
    const writer = queue(redis.url, { groupCommitMs: 100, pollMs: 5_000, leaseMs: 10_000 });
    let puts = 0;
    // A put every few milliseconds: the group's timer runs from its first put, it is not pushed back by the next.
    while ((await redis.cli("LLEN", "{parts}:events")) === "0" && puts < 400) {
      writer.push(event(puts++));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(puts).toBeLessThan(400);
    expect(writer.stats().spooled).toBeGreaterThan(0);
  });

  it("a process that only writes never publishes: nothing to take, never woken", async () => {
    const redis = await server();
    const connection = new FrontCounting(redis.url, 1_000);
    const writer = queue(redis.url, {}, false, recordingLogger(), connection);
    let woken = 0;
    writer.onAvailable(() => woken++);
    const other = queue(redis.url);
    for (let n = 0; n < 2; n++) other.push(event(n));
    await other.commit();
    await waitFor(() => writer.size === 2, { what: "the writer to see the other's events" });
    await beats(connection, 3);
    expect(writer.publishing).toBe(false);
    expect(writer.stats().publisher).toBe(false);
    expect(await writer.take(10, Number.POSITIVE_INFINITY)).toEqual([]);
    expect(woken).toBe(0);
  });

  it("wakes its publisher once when it takes the lease, then only while events wait; says so once at debug level", async () => {
    const redis = await server();
    const connection = new FrontCounting(redis.url, 1_000);
    const debug: string[] = [];
    const logger = { ...recordingLogger(), debug: (message: string) => debug.push(message) };
    const publisher = queue(redis.url, {}, true, logger, connection);
    let woken = 0;
    publisher.onAvailable(() => woken++);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    await beats(connection, 5);
    expect(woken).toBe(1);
    expect(debug).toEqual([
      "spool redis://127.0.0.1:" + redis.port + " (key parts): this process is now the publisher",
    ]);
  });

  it("waits for an answer at most the lease's length, and never more than 2 s", () => {
    const timeoutOf = (q: RedisSpoolQueue) => (q.connection as unknown as { timeoutMs: number }).timeoutMs;
    const url = "redis://127.0.0.1:1";
    expect(timeoutOf(queue(url, { leaseMs: 500, pollMs: 100 }))).toBe(500);
    expect(timeoutOf(queue(url, { leaseMs: 10_000, pollMs: 100 }))).toBe(2_000);
  });

  it("a heartbeat that gets no answer reports Redis unreachable once; when it answers again, one line says so", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.unshift(() => proxy.close());
    const connection = new FrontCounting(`redis://${proxy.address}`, 300);
    const logger = recordingLogger();
    queue(`redis://${proxy.address}`, { leaseMs: 300, pollMs: 50 }, false, logger, connection);
    await beats(connection, 1);
    proxy.stall();
    await waitFor(() => lines(logger, /cannot be reached/).length > 0, { what: "the heartbeat's failure" });
    proxy.resume();
    await waitFor(() => lines(logger, /takes events again/).length > 0, { what: "the recovery, with nothing put" });
    await beats(connection, 5);
    expect(lines(logger, /cannot be reached/)).toHaveLength(1);
    expect(lines(logger, /takes events again/)).toHaveLength(1);
  });

  it("a read by take() that gets no answer is reported at once, not at the next heartbeat", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.unshift(() => proxy.close());
    const logger = recordingLogger();
    const publisher = queue(`redis://${proxy.address}`, { leaseMs: 10_000, pollMs: 5_000 }, true, logger);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    proxy.stall();
    await expect(publisher.take(10, Number.POSITIVE_INFINITY)).rejects.toThrow();
    expect(lines(logger, /cannot be reached/)).toHaveLength(1);
    proxy.resume();
  });

  it("stands down: gives the lease up and says why; a writer or a closed queue has no lease to give up", async () => {
    const redis = await server();
    const logger = recordingLogger();
    const publisher = queue(redis.url, { leaseMs: 10_000, pollMs: 5_000 }, true, logger);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    expect(await redis.cli("EXISTS", "{parts}:lease")).toBe("1");
    await publisher.standDown();
    expect(publisher.publishing).toBe(false);
    expect(await redis.cli("EXISTS", "{parts}:lease")).toBe("0");
    expect(logger.messages).toEqual([
      `warn: spool redis://127.0.0.1:${redis.port} (key parts): reading it failed repeatedly; gave the publisher lease up for another process`,
    ]);

    const writerLogger = recordingLogger();
    const writer = queue(redis.url, {}, false, writerLogger);
    await writer.standDown();
    await publisher.close();
    await publisher.standDown();
    expect(writerLogger.messages).toEqual([]);
    expect(logger.messages).toHaveLength(1);
  });

  it("close() when the lease cannot be given up (no answer) warns that it expires by itself, and still closes", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.unshift(() => proxy.close());
    const logger = recordingLogger();
    const publisher = queue(`redis://${proxy.address}`, { leaseMs: 500, pollMs: 100 }, true, logger);
    await waitFor(() => publisher.publishing, { what: "the lease" });
    proxy.stall();
    expect(await publisher.close()).toBeUndefined();
    expect(lines(logger, /could not give the publisher lease up/)).toEqual([
      expect.stringMatching(/^warn: spool .* could not give the publisher lease up \(it expires by itself\): .+/),
    ]);
    proxy.resume();
  });
});
