// A spool file that stops taking writes (a full disk, a file system turned read-only), on the
// SpoolQueue itself: its own connection is put in SQLite's query_only mode, so every write it
// makes fails with SQLITE_READONLY, as a read-only file system's do, while other connections read
// the file. test/faults/spool-disk-full.test.ts fills a real disk through the whole forwarder;
// these pin the queue's side of it, fast enough for the mutation set.
import Database from "../helpers/sqlite-file.js";
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventError, SpoolUnwritableError } from "../../src/index.js";
import { resolveSpoolOptions, type SpoolOptions } from "../../src/config/spool-options.js";
import type { SqliteDatabase } from "../../src/core/sqlite-open.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { SpoolQueue } from "../../src/spool/sqlite/spool.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const queues: SpoolQueue[] = [];
afterEach(async () => {
  for (const queue of queues.splice(0)) {
    writable(queue, true);
    await queue.close();
  }
});

const CAUSE = "the file is not writable (SQLITE_READONLY)";

function spoolQueue(options: Partial<SpoolOptions> & { publisher?: boolean } = {}) {
  const { publisher = false, ...spool } = options;
  const path = join(tempDir(), "spool.db");
  const logger = recordingLogger();
  const queue = new SpoolQueue(resolveSpoolOptions({ path, pollMs: 10, ...spool }), {
    publisher,
    limiter: new RateLimiter(1, 1),
    logger,
  });
  queues.push(queue);
  return { queue, path, logger };
}

/** Lets the queue's own connection write, or not (the file stays writable for everyone else). */
function writable(queue: SpoolQueue, yes: boolean): void {
  const db = (queue as unknown as { db: SqliteDatabase }).db;
  try {
    db.exec(`PRAGMA query_only = ${yes ? 0 : 1}`);
  } catch {
    // Closed already.
  }
}

const event = (n: number, pad = 0): QueuedEvent => {
  const json = JSON.stringify({ event: `e${n}`, pad: "x".repeat(pad) });
  return { json, bytes: json.length };
};

function read<T>(path: string, sql: string): T {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
}
const outboxEvents = (path: string) =>
  read<{ names: string | null }>(
    path,
    "select group_concat(json_extract(json, '$.event')) as names from outbox",
  ).names?.split(",") ?? [];
const lines = (logger: { messages: string[] }, pattern: RegExp) => logger.messages.filter((m) => pattern.test(m));

describe("a spool file that refuses writes", () => {
  it("keeps the group in memory, reports once naming the file and the cause, and commits it by itself once it can", async () => {
    const { queue, path, logger } = spoolQueue({ groupCommitMs: 5 });
    writable(queue, false);
    for (let n = 0; n < 3; n++) queue.push(event(n));
    await waitFor(() => logger.messages.length > 0, { what: "the failed commit's report" });
    expect(queue.stats()).toMatchObject({ spooled: 0, buffered: 3 });
    expect(queue.size).toBe(3);
    await queue.commit(); // fails again: no second report for the same episode
    queue.push(event(3));
    expect(logger.messages).toEqual([
      `error: spool ${path} cannot be written: ${CAUSE}; up to 1000 new events wait in memory (more are refused) and committed ones are still delivered; retrying every 1000 ms`,
    ]);
    expect(outboxEvents(path)).toEqual([]);

    writable(queue, true);
    // No commit() from here: the retry, a second after the failure, commits the group.
    await waitFor(() => queue.stats().buffered === 0, { timeoutMs: 3_000, what: "the retry to commit" });
    expect(outboxEvents(path)).toEqual(["e0", "e1", "e2", "e3"]);
    expect(queue.stats()).toMatchObject({ spooled: 4, buffered: 0 });
    expect(lines(logger, /accepts writes again/)).toEqual([`warn: spool ${path} accepts writes again`]);

    // A commit that works after that says nothing more; the next failure is a new episode.
    queue.push(event(4));
    await queue.commit();
    expect(logger.messages).toHaveLength(2);
    writable(queue, false);
    queue.push(event(5));
    await queue.commit();
    expect(lines(logger, /cannot be written/)).toHaveLength(2);
  });

  it("holds at most 1,000 events in memory; the next put throws SpoolUnwritableError naming the file and the cause", async () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 60_000 });
    writable(queue, false);
    queue.push(event(0));
    await queue.commit();
    for (let n = 1; n < 1_000; n++) queue.push(event(n));
    expect(queue.stats().buffered).toBe(1_000);
    let refused: unknown;
    try {
      queue.push(event(1_000));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SpoolUnwritableError);
    expect((refused as Error).message).toBe(
      `the spool ${path} cannot be written (${CAUSE}) and 1000 events already wait in memory for it`,
    );
    expect(queue.stats().buffered).toBe(1_000);

    writable(queue, true);
    await queue.commit();
    expect(outboxEvents(path)).toHaveLength(1_000);
    queue.push(event(1_001));
    expect(queue.stats().buffered).toBe(1);
  });

  it("on a writable file, a group of 1,000 commits at once, without waiting for its window", () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 60_000 });
    for (let n = 0; n < 999; n++) queue.push(event(n));
    expect(queue.stats().buffered).toBe(999);
    queue.push(event(999));
    expect(queue.stats()).toMatchObject({ spooled: 1_000, buffered: 0 });
    expect(outboxEvents(path)).toHaveLength(1_000);
  });

  it("with groupCommitMs 0, put() throws an EventError naming the file and the cause, and keeps nothing of that event", () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 0 });
    writable(queue, false);
    expect(() => queue.push(event(0))).toThrow(new EventError(`the spool ${path} refused the event: ${CAUSE}`));
    expect(queue.stats()).toMatchObject({ spooled: 0, buffered: 0 });
    writable(queue, true);
    queue.push(event(1));
    expect(outboxEvents(path)).toEqual(["e1"]);
  });

  it("a retry first checkpoints the write-ahead log into the file and truncates it: a full disk may be full of the log", async () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 60_000 });
    const logSize = () => statSync(`${path}-wal`).size;
    for (let n = 0; n < 20; n++) queue.push(event(n, 2_000));
    await queue.commit();
    expect(logSize()).toBeGreaterThan(0);
    writable(queue, false);
    queue.push(event(20));
    await queue.commit(); // the first failure: reported, no checkpoint yet
    expect(logSize()).toBeGreaterThan(0);
    await queue.commit(); // the retry checkpoints first
    expect(logSize()).toBe(0);
  });
});

describe("a publisher whose spool file refuses writes", () => {
  it("keeps settled rows until they can be deleted, never giving them again, and deletes them once it can", async () => {
    const { queue, path, logger } = spoolQueue({ groupCommitMs: 0, publisher: true });
    await waitFor(() => queue.publishing, { what: "the lease" });
    for (let n = 0; n < 3; n++) queue.push(event(n));
    const batch = await queue.take(2, Infinity);
    expect(batch.map((e) => JSON.parse(e.json).event)).toEqual(["e0", "e1"]);
    writable(queue, false);
    await queue.settle(batch);
    expect(outboxEvents(path)).toEqual(["e0", "e1", "e2"]);
    expect(lines(logger, /cannot be written/)).toHaveLength(1);
    expect((await queue.take(10, Infinity)).map((e) => JSON.parse(e.json).event)).toEqual(["e2"]);
    expect(queue.size).toBe(1);

    writable(queue, true);
    await queue.commit();
    expect(outboxEvents(path)).toEqual(["e2"]);
    expect(lines(logger, /accepts writes again/)).toHaveLength(1);
  });

  it("keeps the lease it cannot renew (nobody can write the file to take it), warning once per episode", async () => {
    const leaseMs = 200;
    const { queue, path, logger } = spoolQueue({ publisher: true, leaseMs, pollMs: 10 });
    await waitFor(() => queue.publishing, { what: "the lease" });
    writable(queue, false);
    const since = Date.now();
    await waitFor(() => Date.now() - since > 3 * leaseMs, { what: "three lease terms" });
    expect(queue.publishing).toBe(true);
    expect(lines(logger, /heartbeat failed/)).toEqual([
      `warn: spool ${path}: heartbeat failed (reported once until it works again): ${CAUSE}`,
    ]);

    writable(queue, true);
    const renewed = () => read<{ expires: number }>(path, "select expires from lease").expires;
    const before = renewed();
    await waitFor(() => renewed() > before, { what: "a heartbeat that works" });
    writable(queue, false);
    await waitFor(() => lines(logger, /heartbeat failed/).length === 2, { what: "the next episode's warning" });
  });

  it("close() gives back the events it could not write, naming the file and the cause, and warns that the lease expires by itself", async () => {
    const { queue, path, logger } = spoolQueue({ publisher: true, groupCommitMs: 60_000 });
    await waitFor(() => queue.publishing, { what: "the lease" });
    writable(queue, false);
    queue.push(event(0));
    queue.push(event(1));
    const unkept = await queue.close();
    expect(unkept?.events.map((e) => JSON.parse(e.json).event)).toEqual(["e0", "e1"]);
    expect(unkept?.reason).toBe(
      `closed while the spool ${path} could not be written (${CAUSE}): the events never reached it`,
    );
    expect(lines(logger, /could not release the publisher lease/)).toEqual([
      `warn: spool ${path}: could not release the publisher lease (it expires by itself): ${CAUSE}`,
    ]);
    expect(await queue.close()).toBeUndefined();
  });
});
