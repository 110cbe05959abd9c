// The publisher lease on its own, over real SQLite connections to one spool file (as the
// processes sharing a spool have): who holds it, and what happens when two reach for it at once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase } from "../src/core/sqlite-open.js";
import { PublisherLease } from "../src/spool/sqlite-lease.js";
import { checkIsSpool, createSpool } from "../src/spool/sqlite-schema.js";
import { useTempDirs } from "./helpers/temp-dir.js";

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
    statement.get = ((...args: unknown[]) => {
      const row = get(...(args as []));
      meanwhile();
      return row;
    }) as typeof statement.get;
    return statement;
  }) as typeof db.prepare;
  return db;
}

const holder = (db: SqliteDatabase) => (db.prepare("SELECT holder FROM lease").get() as { holder: string | null }).holder;

describe("the publisher lease", () => {
  it("two claimants that both read the lease free: exactly one takes it (the claim is atomic)", () => {
    const path = join(tempDir(), "spool.db");
    const now = Date.now();
    const other = new PublisherLease(connect(path), 10_000, 1, 1_000);
    let otherTook: boolean | undefined;
    const first = new PublisherLease(
      connectWithPause(path, () => (otherTook ??= other.refresh(now))),
      10_000,
      1,
      1_000,
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
    const dead = new PublisherLease(connect(path), 1_000, 1, 1_000);
    expect(dead.refresh(0)).toBe(true);
    const now = 5_000; // long after the dead holder's lease ran out
    const other = new PublisherLease(connect(path), 1_000, 1, 1_000);
    let otherTook: boolean | undefined;
    const first = new PublisherLease(connectWithPause(path, () => (otherTook ??= other.refresh(now))), 1_000, 1, 1_000);
    expect(first.refresh(now)).toBe(false);
    expect(otherTook).toBe(true);
    expect(holder(opened[0]!)).toBe(other.holderId);
  });
});
