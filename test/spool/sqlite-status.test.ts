// What `events-forward status` reads of a SQLite spool, in this process: written by the parts
// that write it (the lease, the delivery log), read by the inspector, over a real spool file.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openSqlite, type SqliteDatabase } from "../../src/core/sqlite-open.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { PublisherLease } from "../../src/spool/sqlite/lease.js";
import { checkIsSpool, createSpool } from "../../src/spool/sqlite/schema.js";
import { SqliteDeliveryLog, SqliteSpoolInspector } from "../../src/spool/sqlite/status.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const closers: Array<() => unknown> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0).reverse()) await close();
});

function spoolFile(): { path: string; db: SqliteDatabase } {
  const path = join(tempDir(), "spool.db");
  const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
  closers.push(() => db.close());
  return { path, db };
}

function inspector(path: string): SqliteSpoolInspector {
  const made = new SqliteSpoolInspector(path);
  closers.push(() => made.close());
  return made;
}

function deliveryLog(path: string): SqliteDeliveryLog {
  const made = new SqliteDeliveryLog(path);
  closers.push(() => made.close());
  return made;
}

describe("the status of a SQLite spool", () => {
  it("a spool nobody used: nothing waiting, no holder, no delivery, an empty window", async () => {
    const { path } = spoolFile();
    expect(await inspector(path).status(60_000)).toEqual({
      spool: path,
      waiting: 0,
      oldestAgeMs: undefined,
      lease: {},
      lastDelivery: undefined,
      holding: undefined,
      requestsInWindow: 0,
      deadLetters: [],
    });
  });

  it("names --spool when the file is not a spool; close() lets the file go", async () => {
    const path = join(tempDir(), "not-a-spool.db");
    const other = openSqlite("x", path);
    other.exec("CREATE TABLE t (x)");
    other.close();
    expect(() => new SqliteSpoolInspector(path)).toThrow(/--spool/);
    const spool = spoolFile().path;
    const made = new SqliteSpoolInspector(spool);
    await made.close();
    await expect(made.status(60_000)).rejects.toThrow();
  });

  it("the inspector follows a symbolic link the operator names; the delivery log does not, unless allowed", async () => {
    const { path } = spoolFile();
    const link = join(tempDir(), "link.db");
    symlinkSync(path, link);
    expect((await inspector(link).status(60_000)).waiting).toBe(0);
    const log = deliveryLog(link);
    log.onRequest({ ok: true });
    expect((await inspector(path).status(60_000)).lastDelivery).toBeUndefined();
    const allowed = new SqliteDeliveryLog(link, true);
    closers.push(() => allowed.close());
    allowed.onRequest({ ok: true });
    expect((await inspector(path).status(60_000)).lastDelivery?.outcome).toBe("sent");
  });

  it("the delivery log's close() before any write does nothing; after it, the file is opened again", async () => {
    const { path } = spoolFile();
    const log = new SqliteDeliveryLog(path);
    expect(() => log.close()).not.toThrow();
    log.onRequest({ ok: true });
    log.close();
    // A spool file replaced meanwhile is the one written (a handle kept open would write the old one).
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
    closers.push(() => db.close());
    log.onRequest({ ok: false, reason: "after", retry: true });
    expect(db.prepare("SELECT last_outcome FROM lease").get()).toEqual({ last_outcome: "after" });
    log.close();
  });

  it("shows the events waiting and the oldest's age, the holder, the requests in the window, the last delivery and the holding state", async () => {
    const { path, db } = spoolFile();
    const insert = db.prepare("INSERT INTO outbox (json, bytes) VALUES (?, 10)");
    insert.run(JSON.stringify({ event: "old", created: "2026-01-01T00:00:00Z" }));
    insert.run(JSON.stringify({ event: "new", created: "2026-01-01T00:01:00Z" }));
    const now = Date.parse("2026-01-01T00:01:30Z");
    const lease = new PublisherLease(db, 10_000, new RateLimiter(10, 60_000));
    expect(lease.refresh(now)).toBe(true);
    // Three starts: one out of the window, one at its very edge (not in it), one in it; and text that is no start.
    db.prepare("UPDATE lease SET sends = ? WHERE id = 1").run(
      JSON.stringify([now - 90_000, now - 60_000, now - 1, "x"]),
    );
    const log = deliveryLog(path);
    log.onRequest({ ok: false, reason: "Datasette answered HTTP 503", retry: true, status: 503 });
    vi.spyOn(Date, "now").mockReturnValue(now - 500);
    log.onRequest({ ok: true });
    log.onHolding({ answer: "HTTP 401", reason: "the store refused the token", since: now - 1_000 });

    expect(await inspector(path).status(60_000, now)).toEqual({
      spool: path,
      waiting: 2,
      oldestAgeMs: 90_000,
      lease: {
        holder: lease.holderId,
        host: hostname(),
        pid: process.pid,
        since: now,
        expires: now + 10_000,
      },
      lastDelivery: { at: now - 500, outcome: "sent" },
      holding: { answer: "HTTP 401", reason: "the store refused the token", since: now - 1_000 },
      requestsInWindow: 1,
      deadLetters: [],
    });

    // Past the lease's end nobody holds it, and nobody holds the events either.
    const later = await inspector(path).status(60_000, now + 10_000);
    expect(later.lease).toEqual({});
    expect(later.holding).toBeUndefined();
    expect(later.lastDelivery).toEqual({ at: now - 500, outcome: "sent" });
  });

  it("the delivery log writes a failed request's reason and a failed turn, and the end of holding", async () => {
    const { path, db } = spoolFile();
    const now = Date.now();
    new PublisherLease(db, 60_000, new RateLimiter(10, 60_000)).refresh(now);
    const log = deliveryLog(path);
    log.onRequest({ ok: false, reason: `Datasette answered HTTP 503 ${"x".repeat(600)}`, retry: true, status: 503 });
    let status = await inspector(path).status(60_000);
    expect(status.lastDelivery?.outcome).toBe(`Datasette answered HTTP 503 ${"x".repeat(472)}`);
    expect(status.lastDelivery?.at).toBeGreaterThanOrEqual(now);

    log.onTurnFailed(3, "SQLITE_IOERR");
    status = await inspector(path).status(60_000);
    expect(status.lastDelivery?.outcome).toBe("the forwarder's turn failed 3 time(s) in a row: SQLITE_IOERR");
    log.onTurnFailed(1, "y".repeat(600));
    status = await inspector(path).status(60_000);
    expect(status.lastDelivery?.outcome).toHaveLength(500);

    log.onHolding({ answer: "HTTP 404", reason: "z".repeat(600), since: 7 });
    expect((await inspector(path).status(60_000)).holding).toEqual({
      answer: "HTTP 404",
      reason: "z".repeat(500),
      since: 7,
    });
    log.onHolding(undefined);
    expect((await inspector(path).status(60_000)).holding).toBeUndefined();
  });

  it("reads a holding state written without a tab, and a window that is unreadable or not a list as empty", async () => {
    const { path, db } = spoolFile();
    const now = Date.now();
    new PublisherLease(db, 60_000, new RateLimiter(10, 60_000)).refresh(now);
    db.prepare("UPDATE lease SET holding = 'HTTP 401', holding_since = NULL, sends = '{' WHERE id = 1").run();
    const status = await inspector(path).status(60_000, now);
    expect(status.holding).toEqual({ answer: "HTTP 401", reason: "HTTP 401", since: 0 });
    expect(status.requestsInWindow).toBe(0);
    db.prepare(`UPDATE lease SET sends = '{"at": ${now}}' WHERE id = 1`).run();
    expect((await inspector(path).status(60_000, now)).requestsInWindow).toBe(0);
  });

  it("a delivery log that cannot write rests for 10 s (only the holding state is always tried), and opens again after close()", async () => {
    const dir = join(tempDir(), "not-yet");
    const path = join(dir, "spool.db");
    const log = deliveryLog(path);
    const start = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(start);
    log.onRequest({ ok: true }); // the directory is missing: the write fails
    mkdirSync(dir);
    const spool = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
    closers.push(() => spool.close());
    const outcome = () =>
      (spool.prepare("SELECT last_outcome FROM lease").get() as { last_outcome: string | null }).last_outcome;
    clock.mockReturnValue(start + 9_999);
    log.onRequest({ ok: false, reason: "resting", retry: true });
    expect(outcome()).toBeNull();
    clock.mockReturnValue(start + 10_000);
    log.onRequest({ ok: false, reason: "written", retry: true });
    expect(outcome()).toBe("written");

    log.close();
    log.onRequest({ ok: true });
    expect(outcome()).toBe("sent");

    // The holding state is written even while the log rests.
    const otherDir = join(tempDir(), "not-yet-either");
    const otherPath = join(otherDir, "spool.db");
    const other = deliveryLog(otherPath);
    other.onRequest({ ok: true }); // fails: the rest begins
    mkdirSync(otherDir);
    clock.mockReturnValue(start + 11_000);
    other.onHolding({ answer: "HTTP 401", reason: "refused", since: 1 });
    expect((await inspector(otherPath).status(60_000)).lastDelivery).toBeUndefined();
    const row = openSqlite("spool", otherPath, { check: checkIsSpool, init: createSpool });
    closers.push(() => row.close());
    expect(row.prepare("SELECT holding FROM lease").get()).toEqual({ holding: "HTTP 401\trefused" });
  });
});
