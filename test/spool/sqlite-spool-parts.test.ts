// The SQLite spool queue's own bookkeeping (spool/sqlite/spool.ts), on the queue itself over real
// files: the bound it checks on put(), the group-commit timer, the heartbeat's wake-ups, lease
// messages and debug line, standing down, the commit on a normal exit, and close() (its lock wait
// and its lease). Two queues on one file stand for two processes.
import Database from "../helpers/sqlite-file.js";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventError, EventQueueFullError } from "../../src/index.js";
import { CHANNELS } from "../../src/observe/channels.js";
import { resolveSpoolOptions, type SpoolOptions } from "../../src/config/spool-options.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { SpoolQueue } from "../../src/spool/sqlite/spool.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const open: SpoolQueue[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

type Options = Partial<SpoolOptions> & { publisher?: boolean; path?: string };

function spoolQueue(options: Options = {}) {
  const { publisher = false, path = join(tempDir(), "spool.db"), ...spool } = options;
  const messages: string[] = [];
  const logger = {
    warn: (message: string) => messages.push(`warn: ${message}`),
    error: (message: string) => messages.push(`error: ${message}`),
    debug: (message: string) => messages.push(`debug: ${message}`),
  };
  const queue = new SpoolQueue(resolveSpoolOptions({ path, pollMs: 10, ...spool }), {
    publisher,
    limiter: new RateLimiter(1, 1),
    logger,
  });
  open.push(queue);
  return { queue, path, messages };
}

const event = (n: number): QueuedEvent => {
  const json = JSON.stringify({ event: `e${n}` });
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
const outboxCount = (path: string) => read<{ n: number }>(path, "select count(*) as n from outbox").n;
const leaseExpires = (path: string) => read<{ expires: number }>(path, "select expires from lease").expires;

/** Waits for `n` more renewals of the lease row by its holder (every leaseMs / 5): heartbeats, several each. */
async function beats(path: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = leaseExpires(path);
    await waitFor(() => leaseExpires(path) > before, { what: "a heartbeat" });
  }
}

/** The lease messages published on the diagnostics channel while the test runs. */
function leaseMessages(): Array<{ spool: string; held: boolean }> {
  const seen: Array<{ spool: string; held: boolean }> = [];
  const listener = (message: unknown) => seen.push(message as { spool: string; held: boolean });
  subscribe(CHANNELS.lease, listener);
  cleanups.push(() => unsubscribe(CHANNELS.lease, listener));
  return seen;
}

describe("the SQLite spool queue's bound", () => {
  it("refuses a put once the spool holds spool.maxEvents, counting what it buffers", () => {
    const { queue } = spoolQueue({ maxEvents: 3, groupCommitMs: 60_000 });
    for (let n = 0; n < 3; n++) queue.push(event(n));
    expect(() => queue.push(event(3))).toThrow(EventQueueFullError);
    expect(() => queue.push(event(3))).toThrow(/spool\.maxEvents/);
    expect(queue.stats().buffered).toBe(3);
  });

  it("counts the file again when full, so room another process made is used at once", async () => {
    const path = join(tempDir(), "spool.db");
    const { queue: writer } = spoolQueue({ path, maxEvents: 3, groupCommitMs: 0, pollMs: 60_000, leaseMs: 120_000 });
    for (let n = 0; n < 3; n++) writer.push(event(n));
    const { queue: publisher } = spoolQueue({ path, publisher: true, pollMs: 10 });
    await waitFor(() => publisher.publishing, { what: "the lease" });
    await publisher.settle(await publisher.take(10, Number.POSITIVE_INFINITY));
    expect(outboxCount(path)).toBe(0);
    writer.push(event(3));
    expect(outboxCount(path)).toBe(1);
  });

  it("counts the file again once groupCommitMs has passed, so what other processes put counts", async () => {
    const path = join(tempDir(), "spool.db");
    const { queue: writer } = spoolQueue({ path, maxEvents: 3, groupCommitMs: 20, pollMs: 60_000, leaseMs: 120_000 });
    const { queue: other } = spoolQueue({ path, groupCommitMs: 0 });
    for (let n = 0; n < 3; n++) other.push(event(n));
    const since = Date.now();
    await waitFor(() => Date.now() - since > 40, { what: "a group-commit window" });
    expect(() => writer.push(event(3))).toThrow(EventQueueFullError);
  });
});

describe("the SQLite spool queue's commits", () => {
  it("sends a group after groupCommitMs without a commit() call, even while puts keep coming", async () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 50 });
    let puts = 0;
    // A put every few milliseconds: the group's timer runs from its first put, it is not pushed back by the next.
    while (outboxCount(path) === 0 && puts < 400) {
      queue.push(event(puts++));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(puts).toBeLessThan(400);
  });

  it("a put that cannot be written with groupCommitMs 0 carries SQLite's own error as its cause", () => {
    const { queue } = spoolQueue({ groupCommitMs: 0 });
    (queue as unknown as { db: { exec(sql: string): void } }).db.exec("PRAGMA query_only = 1");
    let failure: unknown;
    try {
      queue.push(event(0));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(EventError);
    expect((failure as Error).cause).toMatchObject({ message: expect.stringMatching(/readonly/) });
    (queue as unknown as { db: { exec(sql: string): void } }).db.exec("PRAGMA query_only = 0");
  });

  it("commits the group when the process exits normally, and not after close()", async () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 60_000 });
    const onExit = (queue as unknown as { commitOnExit: () => void }).commitOnExit;
    expect(process.listeners("exit")).toContain(onExit);
    queue.push(event(0));
    onExit();
    expect(outboxCount(path)).toBe(1);
    await queue.close();
    expect(process.listeners("exit")).not.toContain(onExit);
    onExit(); // on a closed queue: nothing, and no error from the closed file
  });

  it("close() waits only a moment for another process's write lock, and gives back what it could not write", async () => {
    const { queue, path } = spoolQueue({ groupCommitMs: 60_000 });
    queue.push(event(0));
    const holder = new Database(path);
    holder.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const unkept = await queue.close();
      // The file's usual wait for a lock is 5 s; close() must end within its own margin.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(unkept?.events).toHaveLength(1);
      expect(unkept?.reason).toMatch(/database is locked/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  });
});

describe("the SQLite spool queue's heartbeat", () => {
  it("takes the lease: one debug line, one lease message, one wake; then wakes only while events wait", async () => {
    const seen = leaseMessages();
    const { queue, path, messages } = spoolQueue({ publisher: true, pollMs: 10, leaseMs: 1_000 });
    let woken = 0;
    queue.onAvailable(() => woken++);
    await waitFor(() => queue.publishing, { what: "the lease" });
    await beats(path, 3);
    expect(messages).toEqual([`debug: spool ${path}: this process is now the publisher`]);
    expect(seen.filter((m) => m.spool === path)).toEqual([expect.objectContaining({ spool: path, held: true })]);
    expect(woken).toBe(0);

    const { queue: writer } = spoolQueue({ path, groupCommitMs: 0 });
    writer.push(event(0));
    await waitFor(() => woken > 0, { what: "the publisher woken by another process's event" });
  });

  it("a process that competes for the lease but does not hold it publishes nothing and is never woken", async () => {
    const path = join(tempDir(), "spool.db");
    const { queue: holder } = spoolQueue({ path, publisher: true, pollMs: 10, leaseMs: 1_000 });
    await waitFor(() => holder.publishing, { what: "the lease" });
    const seen = leaseMessages();
    const { queue: other, messages } = spoolQueue({ path, publisher: true, pollMs: 10, leaseMs: 1_000 });
    let woken = 0;
    other.onAvailable(() => woken++);
    const { queue: writer } = spoolQueue({ path, groupCommitMs: 0 });
    writer.push(event(0));
    await beats(path, 3);
    expect(other.publishing).toBe(false);
    expect(woken).toBe(0);
    expect(seen).toEqual([]);
    expect(messages).toEqual([]);
  });

  it("a publisher with events waiting and no wake-up set still renews its lease without a failure", async () => {
    const { queue, path, messages } = spoolQueue({ publisher: true, pollMs: 10, leaseMs: 1_000, groupCommitMs: 0 });
    queue.push(event(0));
    await waitFor(() => queue.publishing, { what: "the lease" });
    await beats(path, 3);
    expect(messages.filter((m) => /heartbeat failed/.test(m))).toEqual([]);
  });
});

describe("the SQLite spool queue's lease", () => {
  it("stands down: gives the lease up, says so once, publishes it; a writer or a closed queue has none to give", async () => {
    const seen = leaseMessages();
    const { queue, path, messages } = spoolQueue({ publisher: true, pollMs: 10, leaseMs: 60_000 });
    await waitFor(() => queue.publishing, { what: "the lease" });
    await queue.standDown();
    expect(queue.publishing).toBe(false);
    expect(read<{ holder: string | null }>(path, "select holder from lease").holder).toBeNull();
    expect(messages.filter((m) => !m.startsWith("debug"))).toEqual([
      `warn: spool ${path}: reading it failed repeatedly; gave the publisher lease up for another process`,
    ]);
    expect(seen.map((m) => m.held)).toEqual([true, false]);
    await queue.standDown(); // not holding it now: nothing more to publish
    expect(seen.map((m) => m.held)).toEqual([true, false]);

    const { queue: writer, messages: writerMessages } = spoolQueue({ path });
    await writer.standDown();
    await queue.close();
    await queue.standDown();
    expect(writerMessages).toEqual([]);
    expect(messages.filter((m) => /gave the publisher lease up/.test(m))).toHaveLength(2);
  });

  it("close() gives the lease up and publishes it; a writer's close() has no lease and says nothing", async () => {
    const seen = leaseMessages();
    const { queue, path } = spoolQueue({ publisher: true, pollMs: 10, leaseMs: 60_000 });
    await waitFor(() => queue.publishing, { what: "the lease" });
    await queue.close();
    expect(seen.map((m) => m.held)).toEqual([true, false]);
    expect(read<{ holder: string | null }>(path, "select holder from lease").holder).toBeNull();

    const { queue: writer, messages } = spoolQueue({ path });
    await writer.close();
    expect(messages).toEqual([]);
    expect(seen).toHaveLength(2);
  });
});
