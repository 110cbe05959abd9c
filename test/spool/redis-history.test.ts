import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { startAnswerLossProxy, type AnswerLossProxy } from "../helpers/answer-loss-proxy.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";
import { numbered as event, range, drain as drainBy } from "../helpers/numbered-events.js";

/** 100 events a take. */
const drain = (queue: RedisSpoolQueue, count: number) => drainBy(queue, count, 10_000, 100);

// The Redis spool's history across what Redis can lose (a restart without its data) and across
// answers the network loses: nothing appended afterwards is trimmed, no group goes in twice.

const open: RedisSpoolQueue[] = [];
const servers: RedisServer[] = [];
const proxies: AnswerLossProxy[] = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
  for (const server of servers.splice(0)) await server.dispose();
});

async function server(): Promise<RedisServer> {
  const started = await RedisServer.start(); // no persistence: a restart comes back empty
  servers.push(started);
  return started;
}

async function proxy(redis: RedisServer): Promise<AnswerLossProxy> {
  const started = await startAnswerLossProxy(redis.port);
  proxies.push(started);
  return started;
}

function spool(url: string, options: object = {}, publisher = true) {
  const logger = recordingLogger();
  const queue = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url, key: "history", leaseMs: 1_000, pollMs: 20, ...options }),
    { publisher, logger },
  );
  open.push(queue);
  return { queue, logger };
}

describe("the Redis spool's history", () => {
  it("a publisher that outlives Redis's data trims nothing of the new history: every event appended after an empty restart is delivered", async () => {
    const redis = await server();
    const { queue: publisher, logger } = spool(redis.url);
    const before = spool(redis.url, {}, false).queue;
    for (let n = 0; n < 500; n++) before.push(event(n));
    await before.commit();
    await waitFor(() => publisher.publishing, { what: "the lease" });
    expect(await drain(publisher, 500)).toEqual(range(0, 500));
    await waitFor(async () => (await redis.cli("GET", "{history}:base")) === "500", {
      what: "the delivered events to leave Redis",
    });

    await redis.stop("SIGKILL");
    await redis.restart();
    const after = spool(redis.url, {}, false).queue;
    for (let n = 1_000; n < 1_300; n++) after.push(event(n));
    await after.commit();
    expect(after.stats().spooled).toBe(300);
    expect(await drain(publisher, 300)).toEqual(range(1_000, 1_300));
    expect(logger.messages.join("\n")).toMatch(/history/);
  }, 30_000);

  it("a publisher across a restart that kept the data (appendonly, always) starts a new epoch: it loses nothing, and sends again at most what it had not acknowledged", async () => {
    const redis = await RedisServer.start({ appendonly: true, appendfsync: "always" });
    servers.push(redis);
    const { queue: publisher, logger } = spool(redis.url);
    const writer = spool(redis.url, {}, false).queue;
    for (let n = 0; n < 300; n++) writer.push(event(n));
    await writer.commit();
    await waitFor(() => publisher.publishing, { what: "the lease" });
    const before = await drain(publisher, 100);
    await redis.stop("SIGKILL");
    await redis.restart();
    const after: number[] = [];
    await waitFor(
      async () => {
        after.push(...(await drain(publisher, 1)));
        return after.includes(299);
      },
      { what: "the last event after the restart" },
    );
    expect(logger.messages.join("\n")).toMatch(/history/);
    // Everything it had not taken arrives once, in order; what arrives again is only what it took before.
    expect(after.filter((n) => n >= 100)).toEqual(range(100, 300));
    expect(after.filter((n) => n < 100).every((n) => before.includes(n))).toBe(true);
  }, 30_000);

  it("a retry refused before its script ran (out of memory) keeps its group: an append whose answer was lost goes in once", async () => {
    const redis = await server();
    const lossy = await proxy(redis);
    // Long lease and poll: the writer's only commands are its appends (and one heartbeat at start).
    const { queue: writer } = spool(`redis://${lossy.address}`, { leaseMs: 60_000, pollMs: 59_000 }, false);
    writer.push(event(-1));
    await writer.commit();
    lossy.loseAnswerTo('{"n":0,', async () => {
      await waitFor(async () => (await redis.cli("LLEN", "{history}:events")) === "11", { what: "the group applied" });
      await redis.cli("CONFIG", "SET", "maxmemory", "1");
    });
    for (let n = 0; n < 10; n++) writer.push(event(n));
    await writer.commit();
    await waitFor(async () => /errorstat_OOM:count=[1-9]/.test(await redis.cli("INFO", "errorstats")), {
      what: "the retry refused out of memory",
    });
    await redis.cli("CONFIG", "SET", "maxmemory", "0");
    await waitFor(
      async () => {
        await writer.commit();
        return writer.stats().buffered === 0;
      },
      { what: "the writer's group answered" },
    );
    const stored = (await redis.cli("LRANGE", "{history}:events", "0", "-1")).split("\n");
    expect(stored.map((json) => (JSON.parse(json) as { n: number }).n)).toEqual(range(-1, 10));
    expect(writer.stats().spooled).toBe(11);
  }, 30_000);

  it("close() reports a group whose append got no answer as unknown, not as never having reached Redis", async () => {
    const redis = await server();
    const lossy = await proxy(redis);
    const { queue: writer } = spool(`redis://${lossy.address}`, { leaseMs: 500, pollMs: 400 }, false);
    writer.push(event(-1));
    await writer.commit();
    lossy.loseAnswerTo('{"n":0,', async () => {
      await waitFor(async () => (await redis.cli("LLEN", "{history}:events")) === "4", { what: "the group applied" });
      lossy.stall();
    });
    for (let n = 0; n < 3; n++) writer.push(event(n));
    await writer.commit();
    // As many that never went: the report counts both kinds, not their difference.
    for (let n = 3; n < 6; n++) writer.push(event(n));
    const unkept = await writer.close();
    expect(unkept?.events.map((e) => (JSON.parse(e.json) as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(unkept?.reason).toMatch(/3 event\(s\) whose append got no answer may be in the spool/);
    expect(unkept?.reason).toMatch(/; 3 event\(s\) never reached it$/);
  }, 30_000);

  it("close() with only a group whose append got no answer says that alone", async () => {
    const redis = await server();
    const lossy = await proxy(redis);
    const { queue: writer } = spool(`redis://${lossy.address}`, { leaseMs: 500, pollMs: 400 }, false);
    // The first group loads the append script: the lost answer is then the script's, not NOSCRIPT's.
    writer.push(event(-1));
    await writer.commit();
    let stalled = false;
    lossy.loseAnswerTo('{"n":0,', async () => {
      await waitFor(async () => (await redis.cli("LLEN", "{history}:events")) === "3", { what: "the group applied" });
      lossy.stall();
      stalled = true;
    });
    for (let n = 0; n < 2; n++) writer.push(event(n));
    await writer.commit();
    await waitFor(() => stalled, { what: "the connection stalled after the lost answer" });
    const unkept = await writer.close();
    expect(unkept?.events).toHaveLength(2);
    expect(unkept?.reason).toMatch(
      /: 2 event\(s\) whose append got no answer may be in the spool \(then they are delivered\) or not$/,
    );
  }, 30_000);
});
