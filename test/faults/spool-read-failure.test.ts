// A spool whose read fails (a broken file, a broken Redis key), and a logger that throws: the
// forwarder must back off rather than loop at full speed, say so in stats() and status, and give
// the lease up after a few failed reads (issue 27 item 6).
import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { LEASE_AFTER_FAILED_READS } from "../../src/pipeline/read-failures.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

/** Turns of the event loop that ran in `ms`: a hot loop of setImmediate shows as thousands. */
async function messagesOver(messages: string[], ms: number): Promise<number> {
  const before = messages.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return messages.length - before;
}

describe("a failing read of the spool", () => {
  it("SQLite: backs off (no log flood), reports failedTurns in stats() and status, and gives the lease up after a few failed reads", async () => {
    const store = await startStore();
    const spool = join(tempDir(), "spool.db");
    const logger = recordingLogger();
    const events = startForwarder(store.url(), {
      spool: { path: spool, pollMs: 10, leaseMs: 60_000 },
      logger,
      backoffBaseMs: 50,
      backoffMaxMs: 100,
    });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    events.put({ event: "delivered" });
    await events.flush();
    // The outbox goes away under the running publisher: every read of it now throws.
    const other = new Database(spool);
    onCleanup(async () => other.close());
    other.exec("DROP TABLE outbox");
    events.put({ event: "waiting" });
    await waitFor(() => events.stats().failedTurns > 0, { what: "a failed turn" });
    expect(events.stats().failure).toMatch(/reading the queue failed: .*no such table: outbox/);
    // At most one turn per backoff step (50-100 ms): a handful of lines in 300 ms, not thousands.
    expect(await messagesOver(logger.messages, 300)).toBeLessThan(10);
    expect(logger.messages.filter((m) => m.includes("turn failed"))).toHaveLength(1);
    // After LEASE_AFTER_FAILED_READS failed reads it stands down; the lease row is free for another process.
    await waitFor(() => events.stats().publisher === false, { what: "the lease given up" });
    expect(events.stats().failedTurns).toBeGreaterThanOrEqual(LEASE_AFTER_FAILED_READS);
    const lease = other.prepare("SELECT holder, last_outcome FROM lease").get() as {
      holder: string | null;
      last_outcome: string;
    };
    expect(lease.holder).toBeNull();
    expect(lease.last_outcome).toMatch(/the forwarder's turn failed \d+ time\(s\) in a row: reading the queue failed/);
  });

  it("Redis: a read Redis refuses at once backs off too, and gives the lease up", async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const store = await startStore();
    const logger = recordingLogger();
    const events = startForwarder(store.url(), {
      spool: { url: redis.url, key: "broken", pollMs: 10, leaseMs: 60_000 },
      logger,
      backoffBaseMs: 50,
      backoffMaxMs: 100,
    });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    events.put({ event: "delivered" });
    await events.flush();
    // The spool's base counter becomes text: every read script now fails on the server, at once.
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    await client.set("{broken}:base", "not a number");
    events.put({ event: "waiting" });
    await waitFor(() => events.stats().failedTurns > 0, { what: "a failed turn" });
    expect(await messagesOver(logger.messages, 300)).toBeLessThan(10);
    await waitFor(() => events.stats().publisher === false, { what: "the lease given up" });
    // Given up in Redis too (the release is a script call on its way when publisher turns false).
    await waitFor(async () => (await client.get("{broken}:lease")) === null, { what: "the lease key released" });
    await events.close({ timeoutMs: 200 });
    await client.close();
  });
});

describe("a logger that throws", () => {
  it("inside drop(): the batch is dropped once and kept once, not sent and dropped again in a loop", async () => {
    const store = await startStore(() => ({ status: 400, body: JSON.stringify({ ok: false, errors: ["bad row"] }) }));
    const spool = join(tempDir(), "spool.db");
    const thrown: string[] = [];
    const logger = {
      warn() {},
      error(message: string) {
        thrown.push(message);
        throw new Error("the logger is broken");
      },
    };
    const events = startForwarder(store.url(), { spool: { path: spool, pollMs: 10 }, logger });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    events.put({ event: "refused" });
    await events.flush();
    expect(events.stats()).toMatchObject({ dropped: 1, queued: 0, requests: 1 });
    const kept = new SqliteDeadLetters(spool, 1_000, { warn() {}, error() {} });
    onCleanup(() => kept.close());
    expect(await kept.list()).toHaveLength(1);
    expect(thrown.some((m) => m.startsWith("dropped 1 event(s)"))).toBe(true);
  });
});
