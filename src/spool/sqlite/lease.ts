import { builtin } from "../../core/builtin.js";
import { hostname } from "node:os";
import type { RateLimit, RateLimiter } from "../../pipeline/rate-limit.js";
import type { SqliteDatabase } from "../../core/sqlite-open.js";
import { transaction } from "../../core/sqlite-driver.js";

interface LeaseRow {
  holder: string | null;
  expires: number;
  sends: string;
}

/**
 * The publisher lease: one row in the spool naming the one process that may send, until
 * `expires` (milliseconds since the epoch; every sharer runs on this host, so one clock).
 * The holder renews it with a heartbeat; when the holder dies, the row expires and the next
 * process that looks takes it. The row also keeps the start times of the last requests, so the
 * rate limit carries over to the next holder and holds for the whole fleet.
 */
export class PublisherLease {
  readonly holderId = `${hostname()}:${process.pid}:${builtin("node:crypto").randomUUID().slice(0, 8)}`;
  /** The rate limit the forwarder applies: the local limiter, its window saved in the lease row for the next holder. */
  readonly rateLimit: RateLimit;
  /** When our lease ends, by our own last write; 0 when we do not hold it. */
  private expiresAt = 0;
  private renewedAt = 0;
  /** After standDown(): the lease is not taken again before then. */
  private restUntil = 0;
  private readonly read;
  private readonly claim;
  private readonly readSends;
  private readonly saveSends;
  private readonly give;

  constructor(
    db: SqliteDatabase,
    private readonly leaseMs: number,
    private readonly limiter: RateLimiter,
  ) {
    this.read = db.prepare<[], LeaseRow>("SELECT holder, expires, sends FROM lease WHERE id = 1");
    // One statement, so taking the lease is atomic across processes: it succeeds only when the
    // lease is ours, free, or expired.
    this.claim = db.prepare<[{ me: string; now: number; expires: number }]>(
      // `since` (for `events-forward status`) changes only when the holder does.
      "UPDATE lease SET holder = @me, expires = @expires, since = CASE WHEN holder IS @me THEN since ELSE @now END WHERE id = 1 AND (holder = @me OR holder IS NULL OR expires <= @now)",
    );
    this.readSends = db.prepare<[], { sends: string }>("SELECT sends FROM lease WHERE id = 1");
    this.saveSends = db.prepare<[string]>("UPDATE lease SET sends = ? WHERE id = 1");
    // Read, decide and record in one IMMEDIATE transaction: two processes that both believe they
    // hold the lease (one stalled past it) still share one window.
    const acquireInRow = (now: number, force: boolean): number =>
      transaction(
        db,
        () => {
          limiter.load(parseStarts(this.readSends.get()?.sends ?? "[]"));
          const wait = limiter.acquireAt(now, force);
          if (wait === 0) this.saveSends.run(JSON.stringify(limiter.recent));
          return wait;
        },
        "immediate",
      );
    this.give = db.prepare<[string]>("UPDATE lease SET holder = NULL, expires = 0 WHERE id = 1 AND holder = ?");
    this.rateLimit = {
      delay: async () => {
        try {
          limiter.load(parseStarts(this.readSends.get()?.sends ?? "[]"));
        } catch {
          // Unreadable for now: this process's own record still limits it.
        }
        return limiter.delay();
      },
      acquire: async (force) => {
        try {
          return acquireInRow(Date.now(), force);
        } catch {
          // The spool is busy or cannot be written: this process still limits itself by its own record.
          return limiter.acquireAt(Date.now(), force);
        }
      },
    };
  }

  held(now = Date.now()): boolean {
    return this.expiresAt > now;
  }

  /**
   * Renews the lease if we hold it (at most every leaseMs / 5), takes it if it is free or
   * expired. Returns true when this call took it (the caller then looks for work).
   */
  refresh(now = Date.now()): boolean {
    const wasHeld = this.held(now);
    // A wall clock that stepped backwards (now < renewedAt) renews at once rather than never.
    if (wasHeld && now >= this.renewedAt && now - this.renewedAt < this.leaseMs / 5) return false;
    if (now < this.restUntil) return false;
    const row = this.read.get();
    if (row === undefined) return false;
    // Reading first keeps the non-holders from writing on every heartbeat.
    if (row.holder !== this.holderId && row.holder !== null && row.expires > now) {
      this.expiresAt = 0;
      return false;
    }
    const expires = now + this.leaseMs;
    if (this.claim.run({ me: this.holderId, now, expires }).changes !== 1) {
      this.expiresAt = 0;
      return false;
    }
    this.expiresAt = expires;
    this.renewedAt = now;
    if (wasHeld) return false;
    this.limiter.load(parseStarts(row.sends));
    return true;
  }

  /**
   * The lease row could not be written (disk full, read-only): keep the lease we hold, as no other
   * process can write the row to take it either, so committed events keep being delivered.
   */
  holdThroughWriteFailure(now = Date.now()): void {
    if (this.held(now)) this.expiresAt = now + this.leaseMs;
  }

  /** Gives the lease up and takes it again only after a lease's length: another process may do better. */
  standDown(now = Date.now()): void {
    this.restUntil = now + this.leaseMs;
    this.release();
  }

  /** Gives the lease up at once, so another process need not wait for it to expire. */
  release(): void {
    if (this.expiresAt === 0) return;
    this.expiresAt = 0;
    this.give.run(this.holderId);
  }
}

function parseStarts(text: string): number[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === "number") : [];
  } catch {
    return [];
  }
}
