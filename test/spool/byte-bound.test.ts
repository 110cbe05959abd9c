// Spools read and append within a byte bound, not by count first (issue 27 item 5): 10,000 rows
// of up to 100 KB each (the collector's batchLimit and event size) would be a gigabyte.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { silentLogger } from "../../src/core/log.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { checkIsSpool, createSpool } from "../../src/spool/sqlite/schema.js";
import { openSqlite } from "../../src/core/sqlite-open.js";
import { transaction } from "../../src/core/sqlite-driver.js";
import { PROJECT_ROOT } from "../helpers/datasette-venv.js";
import { CountingConnection } from "../helpers/counting-connection.js";
import { RedisServer } from "../helpers/redis-server.js";
import { startStallProxy } from "../helpers/stall-proxy.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const open: RedisSpoolQueue[] = [];
const servers: RedisServer[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const close of closers.splice(0)) await close();
  for (const server of servers.splice(0)) await server.dispose();
});

const KB100 = 100 * 1024;
const big = (n: number): QueuedEvent => {
  const json = JSON.stringify({ n, pad: "x".repeat(KB100 - 20) });
  return { json, bytes: Buffer.byteLength(json) };
};

/** A counter of redis-server's INFO stats, e.g. total_net_output_bytes. */
async function stat(server: RedisServer, name: string): Promise<number> {
  const info = await server.cli("INFO", "stats");
  return Number(new RegExp(`${name}:(\\d+)`).exec(info)![1]);
}

describe("the SQLite spool reads within the byte bound", () => {
  it("a take(10_000, 1 MB) over 200 MB of 100 KB events reads about 1 MB: it runs in a 64 MB heap", () => {
    const path = join(tempDir(), "spool.db");
    const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
    const insert = db.prepare("INSERT INTO outbox (json, bytes) VALUES (?, ?)");
    transaction(db, () => {
      for (let n = 0; n < 2_000; n++) {
        const e = big(n);
        insert.run(e.json, e.bytes);
      }
    });
    db.close();
    // A publisher in a process whose heap cannot hold what a count-first read would load.
    const code = `
      import { SpoolQueue } from "./src/spool/sqlite/spool.ts";
      import { resolveSpoolOptions } from "./src/config/spool-options.ts";
      import { RateLimiter } from "./src/pipeline/rate-limit.ts";
      const queue = new SpoolQueue(resolveSpoolOptions({ path: ${JSON.stringify(path)}, pollMs: 10 }), {
        publisher: true, limiter: new RateLimiter(1, 1), logger: { warn() {}, error() {} },
      });
      while (!queue.publishing) await new Promise((r) => setTimeout(r, 10));
      const batch = await queue.take(10_000, 1_000_000);
      console.log(batch.length, batch.reduce((sum, e) => sum + e.bytes, 0));
      await queue.close();
    `;
    const result = spawnSync(
      process.execPath,
      ["--max-old-space-size=64", "--import", "tsx", "--input-type=module", "-e", code],
      { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(result.stderr).not.toMatch(/heap out of memory/);
    expect(result.status).toBe(0);
    const [count, bytes] = result.stdout.trim().split(" ").map(Number);
    expect(count).toBe(Math.floor(1_000_000 / big(0).bytes));
    expect(bytes).toBeLessThanOrEqual(1_000_000);
  }, 60_000);
});

describe("the Redis spool reads and appends within the byte bound", () => {
  async function redisSpool(options: object = {}, server?: RedisServer) {
    if (server === undefined) {
      server = await RedisServer.start();
      servers.push(server);
    }
    const queue = new RedisSpoolQueue(
      resolveRedisSpoolOptions({ url: server.url, key: "bytes", leaseMs: 1_000, pollMs: 20, ...options }),
      { publisher: true, logger: silentLogger },
    );
    open.push(queue);
    return { server, queue };
  }

  it("take(10_000, 500 KB) over 20 MB of 100 KB events: Redis sends about 500 KB, not the 20 MB", async () => {
    const { server, queue } = await redisSpool();
    for (let n = 0; n < 200; n++) queue.push(big(n));
    await queue.commit();
    await waitFor(() => queue.publishing, { what: "the lease" });
    const before = await stat(server, "total_net_output_bytes");
    const batch = await queue.take(10_000, 500_000);
    const sent = (await stat(server, "total_net_output_bytes")) - before;
    expect(batch.map((e) => JSON.parse(e.json).n)).toEqual([0, 1, 2, 3]);
    expect(sent).toBeLessThan(1_000_000);
    // At least one event, however large.
    expect(await queue.take(10_000, 10)).toHaveLength(1);
  });

  it("appends a large group in parts of at most 4 MB, not 20 MB in one command", async () => {
    const { server, queue } = await redisSpool({ groupCommitMs: 60_000 });
    // Redis's slow log keeps every command (its first 32 arguments, and how many more it had).
    await server.cli("CONFIG", "SET", "slowlog-log-slower-than", "0");
    await server.cli("CONFIG", "SET", "slowlog-max-len", "10000");
    for (let n = 0; n < 200; n++) queue.push(big(n));
    await queue.commit();
    expect(queue.stats()).toMatchObject({ spooled: 200, buffered: 0 });
    expect(Number(await server.cli("LLEN", "{bytes}:events"))).toBe(200);
    const log = await server.cli("SLOWLOG", "GET", "10000");
    const more = [...log.matchAll(/\((\d+) more arguments\)/g)].map((m) => Number(m[1]));
    // An append of 100 KB events carries at most 40 of them (4 MB): 32 arguments shown, at most ~20 more.
    expect(more.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...more)).toBeLessThan(40);
  });

  it("an append that got no answer in time makes the next ones smaller, as a refused one does", async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const proxy = await startStallProxy(server.port);
    closers.push(() => proxy.close());
    // Its commands time out after 1 s; it takes no lease (publisher: false).
    const url = `redis://${proxy.address}`;
    const connection = new CountingConnection(url, 1_000);
    const appends = connection.appends;
    const queue = new RedisSpoolQueue(
      resolveRedisSpoolOptions({ url, key: "bytes", leaseMs: 1_000, pollMs: 500, groupCommitMs: 60_000 }),
      { publisher: false, logger: silentLogger },
      connection,
    );
    open.push(queue);
    // Connected first (a first connection gets longer than a command).
    await waitFor(async () => (await server.cli("EXISTS", "{bytes}:epoch")) === "1", { what: "the first heartbeat" });
    proxy.stall();
    for (let n = 0; n < 10; n++) queue.push(big(n));
    // Unanswered twice at least (the retry is the same group: it may have gone in).
    await queue.commit();
    await queue.commit();
    expect(queue.stats()).toMatchObject({ spooled: 0, buffered: 10 });
    proxy.resume();
    await waitFor(
      async () => {
        await queue.commit();
        return queue.stats().buffered === 0;
      },
      { what: "the group answered" },
    );
    expect(queue.stats()).toMatchObject({ spooled: 10, buffered: 0 });
    // Every attempt carried the same group; all but the last got no answer in time.
    expect(appends.every((n) => n === 10)).toBe(true);
    const unanswered = appends.length - 1;
    expect(unanswered).toBeGreaterThanOrEqual(2);
    appends.length = 0;
    for (let n = 10; n < 110; n++) queue.push(big(n));
    await queue.commit();
    expect(Number(await server.cli("LLEN", "{bytes}:events"))).toBe(110);
    // 4 MB (40 events of 100 KB) halved with each unanswered attempt, doubled by the answer: with
    // two, the next append carries 2 MB (20 events), not 4 MB from the start.
    expect(appends[0]).toBe(Math.max(1, 40 >> (unanswered - 1)));
  });
});
