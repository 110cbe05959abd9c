// The publisher lease on its own, over real SQLite connections to one spool file (as the
// processes sharing a spool have): who holds it, and what happens when two reach for it at once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase } from "../../src/core/sqlite-open.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { PublisherLease } from "../../src/spool/sqlite/lease.js";
import { checkIsSpool, createSpool } from "../../src/spool/sqlite/schema.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const opened: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** A new connection to the spool at `path` (created on first use), as another process opens it. */
function connect(path: string): SqliteDatabase {
  const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
  opened.push(db);
  return db;
}

/**
 * A connection whose lease read runs `meanwhile` after it has read the row and before it
 * returns it: the moment between the read and the claim, where another process may claim.
 */
function connectWithPause(path: string, meanwhile: () => void): SqliteDatabase {
  const db = connect(path);
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    if (!sql.startsWith("SELECT holder, expires, sends FROM lease")) return statement;
    const get = statement.get.bind(statement);
    statement.get = (...args: unknown[]) => {
      const row = get(...(args as []));
      meanwhile();
      return row;
    };
    return statement;
  }) as typeof db.prepare;
  return db;
}

const holder = (db: SqliteDatabase) =>
  (db.prepare("SELECT holder FROM lease").get() as { holder: string | null }).holder;

describe("the publisher lease", () => {
  it("two claimants that both read the lease free: exactly one takes it (the claim is atomic)", () => {
    const path = join(tempDir(), "spool.db");
    const now = Date.now();
    const other = new PublisherLease(connect(path), 10_000, new RateLimiter(1, 1_000));
    let otherTook: boolean | undefined;
    const first = new PublisherLease(
      connectWithPause(path, () => (otherTook ??= other.refresh(now))),
      10_000,
      new RateLimiter(1, 1_000),
    );
    const firstTook = first.refresh(now);
    // The other one read the free row and claimed it while the first stood between its own read
    // (free too) and its claim: the first's claim must find the lease taken.
    expect(otherTook).toBe(true);
    expect(firstTook).toBe(false);
    expect([first.held(now), other.held(now)]).toEqual([false, true]);
    expect(holder(opened[0]!)).toBe(other.holderId);
  });

  it("the same race for a lease that expired: the later claim loses", () => {
    const path = join(tempDir(), "spool.db");
    const dead = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    expect(dead.refresh(0)).toBe(true);
    const now = 5_000; // long after the dead holder's lease ran out
    const other = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    let otherTook: boolean | undefined;
    const first = new PublisherLease(
      connectWithPause(path, () => (otherTook ??= other.refresh(now))),
      1_000,
      new RateLimiter(1, 1_000),
    );
    expect(first.refresh(now)).toBe(false);
    expect(otherTook).toBe(true);
    expect(holder(opened[0]!)).toBe(other.holderId);
  });
});

describe("holding the lease", () => {
  const row = (db: SqliteDatabase) =>
    db.prepare("SELECT holder, expires, sends FROM lease").get() as {
      holder: string | null;
      expires: number;
      sends: string;
    };

  it("is taken when free, renewed by its holder at most every leaseMs / 5, and refused to others until it expires", () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const a = new PublisherLease(db, 1_000, new RateLimiter(1, 1_000));
    const b = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    expect(a.held(0)).toBe(false);
    expect(a.refresh(0)).toBe(true); // taken: the caller looks for work
    expect(row(db)).toMatchObject({ holder: a.holderId, expires: 1_000 });
    expect([a.held(0), a.held(999), a.held(1_000)]).toEqual([true, true, false]);
    expect(b.refresh(500)).toBe(false);
    expect(b.held(500)).toBe(false);
    expect(a.refresh(199)).toBe(false); // too soon to renew: nothing written
    expect(row(db).expires).toBe(1_000);
    expect(a.refresh(200)).toBe(false); // renewed, not newly taken
    expect(row(db).expires).toBe(1_200);
    expect(a.held(1_100)).toBe(true);
    expect(b.refresh(1_199)).toBe(false);
    expect(b.refresh(1_200)).toBe(true); // expired: the next one takes it
    expect(row(db).holder).toBe(b.holderId);
    expect(a.refresh(1_300)).toBe(false); // the old holder learns it lost the lease
    expect(a.held(1_300)).toBe(false);
  });

  it("renewal is throttled from the last renewal, at any clock reading", () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const a = new PublisherLease(db, 1_000, new RateLimiter(1, 1_000));
    const t = 1_700_000_000_000; // a real clock's reading
    expect(a.refresh(t)).toBe(true);
    expect(a.refresh(t + 199)).toBe(false);
    expect(row(db).expires).toBe(t + 1_000); // not renewed yet
    a.refresh(t + 200);
    expect(row(db).expires).toBe(t + 1_200);
  });

  it("a non-holder's heartbeat and release() only read: they go on while another process holds the write lock", () => {
    const path = join(tempDir(), "spool.db");
    const a = new PublisherLease(connect(path), 60_000, new RateLimiter(1, 1_000));
    expect(a.refresh(0)).toBe(true);
    const db = connect(path);
    db.exec("PRAGMA busy_timeout = 0"); // a write would fail at once (SQLITE_BUSY) instead of waiting
    const b = new PublisherLease(db, 60_000, new RateLimiter(1, 1_000));
    const writer = connect(path);
    writer.exec("BEGIN IMMEDIATE");
    try {
      expect(b.refresh(100)).toBe(false);
      expect(b.held(100)).toBe(false);
      b.release();
    } finally {
      writer.exec("ROLLBACK");
    }
    expect(row(db).holder).toBe(a.holderId);
  });

  it("a spool that lost its lease row: nobody takes the lease, nothing throws", () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    db.exec("DELETE FROM lease");
    const a = new PublisherLease(db, 1_000, new RateLimiter(1, 1_000));
    expect(a.refresh(0)).toBe(false);
    expect(a.held(0)).toBe(false);
  });

  it("a holder that lost the lease takes it again once it is free", () => {
    const path = join(tempDir(), "spool.db");
    const a = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    const b = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    a.refresh(0);
    b.refresh(1_000);
    b.release();
    expect(a.refresh(1_001)).toBe(true);
  });

  it("release() frees it at once, and only when held", () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const a = new PublisherLease(db, 60_000, new RateLimiter(1, 1_000));
    const b = new PublisherLease(connect(path), 60_000, new RateLimiter(1, 1_000));
    a.refresh(0);
    b.release(); // not the holder: the row stays a's
    expect(row(db).holder).toBe(a.holderId);
    a.release();
    expect(a.held(1)).toBe(false);
    expect(row(db)).toMatchObject({ holder: null, expires: 0 });
    expect(b.refresh(1)).toBe(true);
  });

  it("through a write failure, a holder keeps it for another leaseMs; a non-holder gains nothing", () => {
    const path = join(tempDir(), "spool.db");
    const a = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    const b = new PublisherLease(connect(path), 1_000, new RateLimiter(1, 1_000));
    a.refresh(0);
    a.holdThroughWriteFailure(900);
    expect(a.held(1_899)).toBe(true);
    expect(a.held(1_900)).toBe(false);
    b.holdThroughWriteFailure(900);
    expect(b.held(900)).toBe(false);
  });

  it("keeps the rate limiter's start times in the row, so the next holder continues the window", async () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const a = new PublisherLease(db, 60_000, new RateLimiter(2, 10_000));
    a.refresh();
    const before = Date.now();
    expect(await a.rateLimit.acquire(false)).toBe(0);
    expect(await a.rateLimit.acquire(false)).toBe(0);
    const saved = JSON.parse(row(db).sends) as number[];
    expect(saved).toHaveLength(2);
    for (const start of saved) expect(start).toBeGreaterThanOrEqual(before);
    a.release();
    const limiter = new RateLimiter(2, 10_000);
    const b = new PublisherLease(connect(path), 60_000, limiter);
    b.refresh();
    expect(limiter.recent).toEqual(saved);
    expect(await b.rateLimit.delay()).toBeGreaterThan(9_000);
    // The window is the fleet's: a full one gives a stale holder no slot either, and records nothing.
    expect(await a.rateLimit.acquire(false)).toBeGreaterThan(9_000);
    expect(JSON.parse(row(db).sends)).toEqual(saved);
  });

  it("reads a damaged start-time list as empty, keeping the numbers of a mixed one", () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const take = (sends: string) => {
      db.prepare("UPDATE lease SET holder = NULL, expires = 0, sends = ?").run(sends);
      const limiter = new RateLimiter(5, 1_000);
      const lease = new PublisherLease(db, 1_000, limiter);
      expect(lease.refresh(0)).toBe(true);
      return limiter.recent;
    };
    expect(take("not json")).toEqual([]);
    expect(take('{"a": 1}')).toEqual([]);
    expect(take('[1, "2", null, 3]')).toEqual([1, 3]);
  });

  it("a save that fails (spool closed, busy) does not fail the request's record", async () => {
    const path = join(tempDir(), "spool.db");
    const db = connect(path);
    const limiter = new RateLimiter(2, 1_000);
    const a = new PublisherLease(db, 1_000, limiter);
    a.refresh();
    db.close();
    opened.splice(opened.indexOf(db), 1);
    await expect(a.rateLimit.acquire(false)).resolves.toBe(0);
    expect(limiter.recent).toHaveLength(1);
  });
});
