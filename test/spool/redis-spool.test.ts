import { afterEach, describe, expect, it } from "vitest";
import { EventQueueFullError, SpoolUnreachableError, SpoolUnwritableError } from "../../src/core/errors.js";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { MAX_BUFFERED, RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer, type RedisServerOptions } from "../helpers/redis-server.js";
import { startStallProxy } from "../helpers/stall-proxy.js";
import { waitFor } from "../helpers/wait.js";
import { drain, numbered as event, range } from "../helpers/numbered-events.js";

// The Redis spool as a queue (push, take, settle, commit, close), against a real redis-server,
// with the faults a network server brings: down at start, down mid-run, restarted, out of memory.

const PASSWORD = "s3cret-Passw0rd";
const open: RedisSpoolQueue[] = [];
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const server of servers.splice(0)) await server.dispose();
});

async function server(options: RedisServerOptions = {}): Promise<RedisServer> {
  const started = await RedisServer.start({ password: PASSWORD, ...options });
  servers.push(started);
  return started;
}

function spool(url: string, options: object = {}, publisher = true) {
  const logger = recordingLogger();
  const queue = new RedisSpoolQueue(
    resolveRedisSpoolOptions({ url, key: "test", leaseMs: 1_000, pollMs: 20, ...options }),
    { publisher, logger },
  );
  open.push(queue);
  return { queue, logger };
}

describe("the Redis spool", () => {
  it("keeps events in order until they are settled, then removes them from Redis", async () => {
    const redis = await server();
    const { queue } = spool(redis.url);
    for (let n = 0; n < 1_500; n++) queue.push(event(n));
    expect(queue.stats()).toMatchObject({ buffered: 1_500 });
    await queue.commit();
    expect(queue.stats()).toMatchObject({ spooled: 1_500, buffered: 0 });
    expect(await redis.cli("LLEN", "{test}:events")).toBe("1500");
    await waitFor(() => queue.publishing, { what: "the lease" });
    expect(await drain(queue, 1_500)).toEqual(range(0, 1_500));
    await waitFor(async () => (await redis.cli("LLEN", "{test}:events")) === "0", {
      what: "the settled events to leave Redis",
    });
    expect(queue.size).toBe(0);
  });

  it("refuses more than spool.maxEvents across processes: Redis checks the bound with every append", async () => {
    const redis = await server();
    const a = spool(redis.url, { maxEvents: 100 }, false).queue;
    const b = spool(redis.url, { maxEvents: 100 }, false).queue;
    for (let n = 0; n < 80; n++) a.push(event(n));
    for (let n = 0; n < 80; n++) b.push(event(100 + n)); // b does not know of a's yet
    await Promise.all([a.commit(), b.commit()]);
    expect(await redis.cli("LLEN", "{test}:events")).toBe("100");
    // What did not fit waits in memory (in whichever appended last: groups race), and a queue whose
    // append Redis cut now refuses more.
    expect(a.stats().buffered! + b.stats().buffered!).toBe(60);
    const cut = [a, b].filter((queue) => queue.stats().buffered! > 0);
    expect(cut.length).toBeGreaterThan(0);
    for (const queue of cut) expect(() => queue.push(event(999))).toThrow(/spool\.maxEvents/);
  });

  it("keeps puts in memory while Redis is down at start, then delivers each once; one log line, no password", async () => {
    const redis = await server();
    await redis.stop();
    const { queue, logger } = spool(redis.url);
    for (let n = 0; n < 300; n++) queue.push(event(n));
    await queue.commit();
    await waitFor(() => logger.messages.length > 0, { what: "the outage to be logged" });
    expect(queue.stats()).toMatchObject({ spooled: 0, buffered: 300, publisher: false });
    // Up to the bound, then a typed error naming the spool (never its password).
    let error: unknown;
    try {
      for (let n = 300; n < MAX_BUFFERED + 1; n++) queue.push(event(n));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SpoolUnreachableError);
    expect(error).toBeInstanceOf(EventQueueFullError);
    expect((error as Error).message).toContain(`redis://127.0.0.1:${redis.port} (key test)`);
    expect(queue.stats().buffered).toBe(MAX_BUFFERED);

    await redis.restart();
    expect(await drain(queue, MAX_BUFFERED, 20_000)).toEqual(range(0, MAX_BUFFERED));
    expect(logger.messages.filter((m) => m.startsWith("error:"))).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/cannot be reached/);
    expect(logger.messages.at(-1)).toMatch(/takes events again/);
    expect([...logger.messages, (error as Error).message].join("\n")).not.toContain(PASSWORD);
  }, 40_000);

  it("survives Redis going away mid-run: what was put meanwhile waits in memory and arrives once", async () => {
    const redis = await server();
    const { queue, logger } = spool(redis.url);
    for (let n = 0; n < 200; n++) queue.push(event(n));
    await queue.commit();
    await redis.stop();
    for (let n = 200; n < 400; n++) queue.push(event(n));
    await queue.commit();
    expect(queue.stats()).toMatchObject({ spooled: 200, buffered: 200 });
    await redis.restart(); // no persistence in this server: only what waited in memory survives
    expect(await drain(queue, 200)).toEqual(range(200, 400));
    expect(logger.messages.filter((m) => m.startsWith("error:"))).toHaveLength(1);
  });

  it("loses nothing it acknowledged when Redis is killed and restarted (appendonly yes, appendfsync always)", async () => {
    const redis = await server({ appendonly: true, appendfsync: "always" });
    const writer = spool(redis.url, {}, false).queue;
    for (let n = 0; n < 2_000; n++) writer.push(event(n));
    await writer.commit();
    expect(writer.stats().spooled).toBe(2_000);
    await redis.stop("SIGKILL");
    await redis.restart();
    const { queue } = spool(redis.url);
    await waitFor(() => queue.publishing, { what: "the lease" });
    expect(await drain(queue, 2_000)).toEqual(range(0, 2_000));
  });

  it("treats Redis out of memory (maxmemory, noeviction) like a full disk, and resumes once delivery frees room", async () => {
    const redis = await server({ maxmemory: "3mb" });
    const writer = spool(redis.url, {}, false);
    let pushed = 0;
    let refusal: unknown;
    // 1 KB events: Redis refuses appends at 3 MB, then the writer's memory fills up.
    while (refusal === undefined) {
      try {
        writer.queue.push(event(pushed, 1_000));
        pushed++;
      } catch (error) {
        refusal = error;
      }
      if (pushed % 1_000 === 0) await writer.queue.commit();
    }
    expect(refusal).toBeInstanceOf(SpoolUnwritableError);
    expect(refusal).not.toBeInstanceOf(SpoolUnreachableError);
    expect(writer.logger.messages.join("\n")).toMatch(/refuses writes: OOM/);
    expect(writer.logger.messages).toHaveLength(1);
    const stored = Number(await redis.cli("LLEN", "{test}:events"));
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(pushed);

    // Deep out of memory (below what it holds): a publisher still takes the lease, and removes
    // what it delivered (both in scripts allowed to run then).
    await redis.cli("CONFIG", "SET", "maxmemory", "1mb");
    expect(await redis.cli("SET", "probe", "x")).toMatch(/OOM/);
    const { queue } = spool(redis.url);
    await waitFor(() => queue.publishing, { what: "the lease, out of memory" });
    const first = await queue.take(500, Number.POSITIVE_INFINITY);
    await queue.settle(first);
    // (The writer may still get small groups in meanwhile: count what left the front.)
    await waitFor(async () => (await redis.cli("GET", "{test}:base")) === String(first.length), {
      what: "the delivered events to leave Redis",
    });
    // Room again: the writer's events go in as delivery makes room, each once, in order.
    await redis.cli("CONFIG", "SET", "maxmemory", "3mb");
    const rest = await drain(queue, pushed - first.length, 30_000);
    expect([...first.map((e) => (JSON.parse(e.json) as { n: number }).n), ...rest]).toEqual(range(0, pushed));
    await waitFor(() => writer.logger.messages.some((m) => /takes events again/.test(m)), {
      what: "the recovery to be logged",
    });
  }, 60_000);

  it("lets a publisher whose connection stalls past its lease hand over: the next one sends its batch again, and its late acknowledgement removes nothing else", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    try {
      const a = spool(`redis://:${PASSWORD}@${proxy.address}`).queue;
      await waitFor(() => a.publishing, { what: "a to take the lease" });
      const b = spool(redis.url).queue;
      for (let n = 0; n < 100; n++) a.push(event(n));
      await a.commit();
      const inFlight = await a.take(50, Number.POSITIVE_INFINITY);
      expect(inFlight).toHaveLength(50);

      proxy.stall();
      await waitFor(() => b.publishing, { timeoutMs: 5_000, what: "b to take the lease over" });
      // a gave up before b could take over (a counts its lease from when it sent the renewal,
      // Redis from when it got it), and takes nothing while it does not hold the lease.
      expect(a.publishing).toBe(false);
      expect(await a.take(50, Number.POSITIVE_INFINITY)).toEqual([]);
      // b sends a's batch again, same texts (same ids: the store writes each row once), then takes the next.
      const again = await b.take(50, Number.POSITIVE_INFINITY);
      expect(again.map((e) => e.json)).toEqual(inFlight.map((e) => e.json));
      await b.settle(again);
      const next = await b.take(50, Number.POSITIVE_INFINITY);
      expect(next.map((e) => (JSON.parse(e.json) as { n: number }).n)).toEqual(range(50, 100));

      // a comes back and acknowledges its batch late: only what was delivered goes.
      proxy.resume();
      await a.settle(inFlight);
      await a.close();
      expect(await redis.cli("LLEN", "{test}:events")).toBe("50");
      await b.settle(next);
      await waitFor(async () => (await redis.cli("LLEN", "{test}:events")) === "0", { what: "b's acknowledgement" });
    } finally {
      await proxy.close();
    }
  });
});
