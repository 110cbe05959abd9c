// The spool's disk fills up while the app runs: a real full disk, a small tmpfs this test mounts
// (as root, or in an unprivileged user namespace: test/faults/disk-tests.ts; where neither works it fails, it does not skip).
import { closeSync, existsSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { EventQueueFullError, SpoolUnwritableError } from "../../src/index.js";
import { logged, names, useLoopbackStore } from "../helpers/forward-to.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { mountTmpfs, type Tmpfs } from "../helpers/tmpfs.js";
import { waitFor } from "../helpers/wait.js";

let dir: string;
let tmpfs: Tmpfs | undefined;

beforeAll(() => {
  tmpfs = mountTmpfs("8m", "disk-full test");
  dir = tmpfs.path;
});

// A test that fails while the disk is full must not leave it full for the next one.
afterEach(() => rmSync(join(dir, "filler"), { force: true }));

afterAll(() => {
  tmpfs?.release();
});

const t = useLoopbackStore();

/** Writes `path` until the file system has no byte left (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  try {
    for (const size of [64 * 1024, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOSPC") throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

const storedNames = () => [...t.store.table.values()].map((row) => row.event);

test("spool disk full: committed events keep flowing, memory is bounded, the rest commits and arrives once when space returns", async () => {
  let storeUp = false;
  t.store.behave = () => (storeUp ? { accept: true } : { status: 503 });
  const spool = join(dir, "spool.db");
  // Long enough that a loaded machine's event-loop stalls do not end the lease by themselves (a
  // holder that stalls past leaseMs loses it by design); the test is about the full disk.
  const leaseMs = 1_500;
  const h = t.forward({
    batchLimit: 20,
    maxAttempts: 1_000,
    spool: { path: spool, groupCommitMs: 5, leaseMs, pollMs: 50 },
  });
  const events = h.events;
  await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });

  // Committed, not yet delivered (the store answers 503).
  const committed = names("committed", 30);
  for (const event of committed) events.put({ event });
  await waitFor(() => events.stats().spooled === 30 && events.stats().buffered === 0, {
    what: "the first events committed",
  });

  const filler = join(dir, "filler");
  fillDisk(filler);

  // Put until the spool refuses writes and memory holds as many events as it may.
  const accepted = [...committed];
  const refused: unknown[] = [];
  const failure = () => logged(h, /cannot be written/, "error").length > 0;
  for (let i = 0; refused.length < 5 && i < 5_000; i++) {
    const event = `late-${i}`;
    try {
      events.put({ event, properties: { pad: "x".repeat(200) } });
      accepted.push(event);
    } catch (error) {
      refused.push(error);
    }
    if (i % 50 === 49 && !failure())
      await waitFor(() => events.stats().buffered === 0 || failure(), { what: "a commit or its failure" });
  }
  expect(failure()).toBe(true);
  expect(refused).toHaveLength(5);
  for (const error of refused) {
    expect(error).toBeInstanceOf(SpoolUnwritableError);
    expect(error).toBeInstanceOf(EventQueueFullError);
    expect((error as Error).message).toContain(spool);
    expect((error as Error).message).toContain("disk is full");
  }
  expect(events.stats().buffered).toBe(1_000);

  // The lease cannot be renewed on disk; the publisher keeps it past its term.
  const fullSince = Date.now();
  await waitFor(() => Date.now() - fullSince > 3 * leaseMs, { what: "three lease terms" });
  expect(events.stats().publisher).toBe(true);

  // Committed events are delivered while the disk is still full.
  storeUp = true;
  await waitFor(() => committed.every((name) => storedNames().includes(name)), {
    what: "the committed events delivered on a full disk",
  });
  expect(existsSync(filler)).toBe(true);
  expect(() => events.put({ event: "still-full" })).toThrow(SpoolUnwritableError);

  // Space comes back: the buffered group commits, and every accepted event arrives exactly once.
  rmSync(filler);
  await waitFor(() => storedNames().length === accepted.length && events.stats().queued === 0, {
    timeoutMs: 15_000,
    what: "every accepted event delivered",
  });
  expect(storedNames().sort()).toEqual([...accepted].sort());
  expect([...t.store.writes.values()].every((n) => n === 1)).toBe(true);
  events.put({ event: "after" });
  await waitFor(() => storedNames().includes("after"), { what: "an event put after recovery" });

  // One report per episode from the spool, naming the path and the cause, and one when it ends.
  const reports = logged(h, /^spool .* cannot be written/, "error");
  expect(reports).toHaveLength(1);
  expect(reports[0]).toContain(spool);
  expect(reports[0]).toContain("the disk is full (SQLITE_FULL)");
  expect(logged(h, /accepts writes again/, "warn")).toHaveLength(1);
  // The refused puts are one overflow episode, blamed on the disk, not on the store.
  const refusals = logged(h, /refusing events until/, "error");
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toContain("refusing events until the spool can be written again");
  expect(logged(h, /queue accepts events again: 6 event\(s\) were refused/, "warn")).toHaveLength(1);
  expect(logged(h, /heartbeat failed/, "warn").length).toBeLessThanOrEqual(1);
  expect(logged(h, /failed unexpectedly/)).toEqual([]);
});

test("spool disk full at close(): the events it could not write are dropped (onDrop, undelivered), not counted as spooled", async () => {
  t.store.behave = () => ({ status: 503 });
  const spool = join(dir, "spool-close.db");
  const h = t.forward({
    batchLimit: 20,
    maxAttempts: 1_000,
    spool: { path: spool, groupCommitMs: 5, leaseMs: 1_500, pollMs: 50 },
  });
  const events = h.events;
  await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
  for (const event of names("committed", 3)) events.put({ event });
  await waitFor(() => events.stats().spooled === 3 && events.stats().buffered === 0, {
    what: "the first events committed",
  });

  const filler = join(dir, "filler");
  fillDisk(filler);
  try {
    const late: string[] = [];
    const failure = () => logged(h, /^spool .* cannot be written/, "error").length > 0;
    for (let i = 0; !failure() && i < 50; i++) {
      for (let j = 0; j < 20; j++) {
        late.push(`late-${i}-${j}`);
        events.put({ event: late.at(-1)!, properties: { pad: "x".repeat(200) } });
      }
      await waitFor(() => events.stats().buffered === 0 || failure(), { what: "a commit or its failure" });
    }
    expect(failure()).toBe(true);
    const before = events.stats();
    expect(before.buffered).toBeGreaterThan(0);

    const result = await events.close({ timeoutMs: 100 });
    expect(result).toEqual({ delivered: 0, undelivered: before.queued, spooled: before.queued - before.buffered! });
    expect(h.droppedNames()).toEqual(late.slice(-before.buffered!));
    expect(h.drops).toHaveLength(1);
    expect(h.drops[0]!.reason).toContain(spool);
    expect(h.drops[0]!.reason).toContain("the disk is full (SQLITE_FULL)");
    expect(events.stats().dropped).toBe(before.buffered);
  } finally {
    rmSync(filler);
  }
});

test("spool disk full when events are dropped: they are not given up until the dead letters hold them, then kept once", async () => {
  let refusing = false;
  // Held (503) until the disk is full; then the store refuses the poison events (400), so they must become dead letters.
  t.store.behave = (request) =>
    !refusing
      ? { status: 503 }
      : request.rows.some((row) => row.event.startsWith("poison"))
        ? // Naming the row, as Datasette's answers do: halves get other answers than their batch, so they are halved down to single events.
          {
            status: 400,
            body: JSON.stringify({
              ok: false,
              errors: [`Row 0 (${request.rows[0]!.event}) has invalid columns: colour`],
            }),
          }
        : { accept: true };
  const spool = join(dir, "spool-dead.db");
  const h = t.forward({ batchLimit: 20, spool: { path: spool, groupCommitMs: 5, leaseMs: 1_500, pollMs: 50 } });
  const events = h.events;
  await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
  // Ten poison events of ~90 KB: keeping them needs more room than the write-ahead log already has.
  const poison = names("poison", 10);
  for (const event of poison) events.put({ event, properties: { pad: "x".repeat(90_000) } });
  events.put({ event: "fine" });
  await waitFor(() => events.stats().spooled === 11 && events.stats().buffered === 0, { what: "the events committed" });

  fillDisk(join(dir, "filler"));
  refusing = true;
  await waitFor(() => logged(h, /could not keep .* dead letters/, "error").length > 0, {
    what: "the dead-letter write refused by the full disk",
  });
  expect(logged(h, /could not keep/, "error")[0]).toContain("the disk is full (SQLITE_FULL)");
  // The first few fitted in the log's room and were kept (and dropped); the rest are not given up
  // on: not counted, not handed to onDrop, still queued.
  const { dropped } = events.stats();
  expect(dropped).toBeLessThan(10);
  expect(h.droppedNames()).toHaveLength(dropped);
  expect(events.stats().queued).toBeGreaterThan(0);

  rmSync(join(dir, "filler"));
  await waitFor(() => events.stats().queued === 0, { timeoutMs: 15_000, what: "the batch kept and settled" });
  expect(events.stats().dropped).toBe(10);
  expect(h.droppedNames().sort()).toEqual([...poison].sort());
  expect(storedNames()).toEqual(["fine"]);
  const kept = new SqliteDeadLetters(spool, 1_000, { warn() {}, error() {} });
  try {
    expect((await kept.list()).map((d) => (JSON.parse(d.json) as { event: string }).event).sort()).toEqual(
      [...poison].sort(),
    );
  } finally {
    await kept.close();
  }
});
