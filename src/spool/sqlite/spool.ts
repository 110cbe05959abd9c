import { EventError, EventQueueFullError, SpoolUnwritableError } from "../../core/errors.js";
import { PublisherLease } from "./lease.js";
import type { RateLimit, RateLimiter } from "../../pipeline/rate-limit.js";
import type { Logger } from "../../core/log.js";
import type { EventQueue, QueuedEvent, QueueStats, Unkept } from "../../pipeline/queue.js";
import type { ResolvedSpoolOptions } from "../../config/spool-options.js";
import { Outbox } from "./outbox.js";
import type { SpoolEvent } from "../spool-event.js";
import { publishLease } from "../../observe/channels.js";
import { explainSqliteError, isWriteFailure, type SqliteDatabase } from "../../core/sqlite-open.js";

/** How long each write of close() waits for a lock: three of them stay within LIMITS.closeMarginMs. */
const CLOSE_BUSY_TIMEOUT_MS = 100;

/**
 * A group that grows this large commits at once, whatever the window. While the spool cannot be
 * written it is also the most events kept in memory: more throw SpoolUnwritableError.
 */
const MAX_GROUP = 1_000;
/** Pause before a failed commit is tried again. */
const COMMIT_RETRY_MS = 1_000;

export interface SpoolSettings {
  /** Whether this process competes for the publisher lease (option `publisher`). */
  publisher: boolean;
  /** The root's local rate limiter: the lease carries its window over between publishers. */
  limiter: RateLimiter;
  logger: Logger;
  /** Option allowSymlinks. */
  allowSymlink?: boolean;
}

/**
 * A durable queue in a SQLite file that several processes share (an outbox table). put() only
 * appends to an in-memory group; the group commits in one transaction after at most
 * `groupCommitMs` (group commit: many puts, one transaction). Rows leave only when settled:
 * delivered, or dropped by the forwarder's policy. Only the holder of the publisher lease
 * takes events, so one process sends at a time and the rate limit holds for all of them.
 *
 * Guarantee: an event whose put() returned before the group's commit survives `kill -9` of any
 * process and is delivered after restart; a batch in flight when its publisher died is sent
 * again (the store ignores the rows it already has: ids plus INSERT OR IGNORE / "ignore": true).
 */
export class SpoolQueue implements EventQueue {
  readonly durable = true;
  private readonly db: SqliteDatabase;
  private readonly lease: PublisherLease | undefined;
  private group: QueuedEvent[] = [];
  private commitTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Rows in the outbox (every process's), as of the last look. */
  private stored = 0;
  private countedAt = 0;
  private committed = 0;
  /** The spool refused a write (commit or delete) and has not taken one since: one log per episode. */
  private failing = false;
  private problem = "";
  private heartbeatFailing = false;
  /** The last row delivered or dropped; rows up to it are gone, or are deleted once the spool can be written. */
  private settledThrough = 0;
  private deletePending = false;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly outbox: Outbox;

  constructor(
    private readonly options: ResolvedSpoolOptions,
    private readonly settings: SpoolSettings,
  ) {
    this.outbox = new Outbox(options, settings.allowSymlink);
    this.db = this.outbox.db;
    this.countStored();
    if (settings.publisher) {
      this.lease = new PublisherLease(this.db, options.leaseMs, settings.limiter);
      this.beat();
    }
    process.on("exit", this.commitOnExit);
  }

  /** The rate limit the forwarder must use: its window carries over between publishers. */
  get rateLimit(): RateLimit {
    return this.lease?.rateLimit ?? this.settings.limiter;
  }

  get size(): number {
    // Only the lease holder's heartbeat counts the outbox: any other process counts it here, at
    // most every pollMs, so its stats() say what waits now (two index lookups).
    if (!this.closed && !this.publishing && Date.now() - this.countedAt >= this.options.pollMs) this.countStored();
    return this.stored + this.group.length;
  }

  get publishing(): boolean {
    return this.lease !== undefined && this.lease.held();
  }

  push(event: QueuedEvent): void {
    // The disk is full or read-only: memory waits for it, but only so much.
    if (this.failing && this.group.length >= MAX_GROUP)
      throw new SpoolUnwritableError(this.options.path, MAX_GROUP, this.problem);
    // The bound counts every process's rows, as of a look at most one window old (or: room may
    // have been made since). Processes can overshoot it by what the others put within a window.
    if (this.size >= this.options.maxEvents || Date.now() - this.countedAt >= this.options.groupCommitMs) {
      this.countStored();
      if (this.size >= this.options.maxEvents)
        throw new EventQueueFullError(this.options.maxEvents, undefined, "spool.maxEvents");
    }
    this.group.push(event);
    if (this.options.groupCommitMs === 0) {
      // No window: put() returns only once the event is on disk, or throws.
      try {
        this.commitGroup();
      } catch (error) {
        this.group.pop();
        throw new EventError(`the spool ${this.options.path} refused the event: ${explainSqliteError(error)}`, {
          cause: error,
        });
      }
      return;
    }
    if (this.group.length >= MAX_GROUP) this.commitNow();
    else if (this.commitTimer === undefined) this.armCommit(this.options.groupCommitMs);
  }

  async take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]> {
    if (!this.publishing) return [];
    this.commitNow(); // our own newest events go in the same order as everyone's
    const maxBytesSql = Number.isFinite(maxBytes) ? maxBytes : Number.MAX_SAFE_INTEGER;
    return this.outbox.front(this.settledThrough, maxCount, maxBytesSql);
  }

  async settle(batch: readonly QueuedEvent[]): Promise<void> {
    for (const event of batch as readonly SpoolEvent[]) this.settledThrough = Math.max(this.settledThrough, event.seq);
    this.deletePending = true;
    this.stored = Math.max(0, this.stored - batch.length);
    // A spool that cannot be written keeps the rows; take() skips them, the retry deletes them.
    try {
      this.deleteSettled();
    } catch (error) {
      this.writeFailed(error);
    }
    this.countStored();
  }

  async commit(): Promise<void> {
    this.commitNow();
  }

  /** Commits the group (and deletes settled rows) now; a failure is logged once and retried, the events stay in memory. */
  private commitNow(): void {
    if (this.failing) this.checkpoint();
    try {
      this.commitGroup();
      this.deleteSettled();
      if (this.failing) this.settings.logger.warn(`spool ${this.options.path} accepts writes again`);
      this.failing = false;
    } catch (error) {
      this.writeFailed(error);
    }
  }

  onAvailable(wake: () => void): void {
    this.wake = wake;
  }

  stats(): QueueStats {
    return { spooled: this.committed, buffered: this.group.length, publisher: this.publishing };
  }

  /** Reads failed again and again: another process may take the lease (it comes back here after leaseMs if none does). */
  async standDown(): Promise<void> {
    if (this.lease === undefined || this.closed) return;
    const was = this.publishing;
    try {
      this.lease.standDown();
    } catch {
      // The row could not be written: the lease then ends by itself (held() is already false).
    }
    if (was) publishLease(this.options.path, this.lease.holderId, false);
    this.settings.logger.warn(
      `spool ${this.options.path}: reading it failed repeatedly; gave the publisher lease up for another process`,
    );
  }

  /** Commits what is buffered, gives the lease up, closes the file; returns the events it could not write. */
  async close(): Promise<Unkept | undefined> {
    if (this.closed) return undefined;
    this.closed = true;
    clearTimeout(this.heartbeat);
    // Each write below waits at most this long for another process's lock (a CLI replay, say):
    // every SQLite driver waits synchronously, so close() would miss its deadline (LIMITS.closeMarginMs).
    // What cannot be written is reported (unkept); the lease expires by itself.
    this.db.exec(`PRAGMA busy_timeout = ${CLOSE_BUSY_TIMEOUT_MS}`);
    this.commitNow();
    clearTimeout(this.commitTimer);
    const unwritten = this.group;
    this.group = [];
    process.off("exit", this.commitOnExit);
    try {
      if (this.publishing) publishLease(this.options.path, this.lease!.holderId, false);
      this.lease?.release();
    } catch (error) {
      this.settings.logger.warn(
        `spool ${this.options.path}: could not release the publisher lease (it expires by itself): ${explainSqliteError(error)}`,
      );
    }
    this.db.close();
    if (unwritten.length === 0) return undefined;
    return {
      events: unwritten,
      reason: `closed while the spool ${this.options.path} could not be written (${this.problem}): the events never reached it`,
    };
  }

  private commitGroup(): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.group.length === 0) return;
    this.outbox.append(this.group);
    this.committed += this.group.length;
    this.stored += this.group.length;
    this.group = [];
  }

  private deleteSettled(): void {
    if (!this.deletePending) return;
    this.outbox.deleteThrough(this.settledThrough);
    this.deletePending = false;
  }

  /**
   * A full disk may be full of the spool's own write-ahead log, which SQLite checkpoints only
   * at 1000 pages (4 MB): copying it into the database and truncating it frees the space.
   */
  private checkpoint(): void {
    try {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // Still no room, or a reader holds the log: the next retry tries again.
    }
  }

  private writeFailed(error: unknown): void {
    this.problem = explainSqliteError(error);
    if (!this.failing) {
      this.settings.logger.error(
        `spool ${this.options.path} cannot be written: ${this.problem}; up to ${MAX_GROUP} new events wait in memory (more are refused) and committed ones are still delivered; retrying every ${COMMIT_RETRY_MS} ms`,
      );
    }
    this.failing = true;
    this.armCommit(COMMIT_RETRY_MS);
  }

  private armCommit(ms: number): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = setTimeout(() => this.commitNow(), ms);
    this.commitTimer.unref();
  }

  /** A normal exit (even process.exit()) still commits the group: every SQLite driver is synchronous. */
  private readonly commitOnExit = (): void => {
    if (!this.closed) this.commitNow();
  };

  /** The heartbeat: renew or take the lease, and look for events other processes wrote. */
  private beat(): void {
    try {
      const wasPublishing = this.publishing;
      const acquired = this.lease!.refresh();
      if (acquired) this.settings.logger.debug?.(`spool ${this.options.path}: this process is now the publisher`);
      if (acquired || (wasPublishing && !this.publishing))
        publishLease(this.options.path, this.lease!.holderId, acquired);
      if (this.publishing) {
        this.countStored();
        if (this.stored > 0) this.wake?.();
      }
      this.heartbeatFailing = false;
    } catch (error) {
      // Busy beyond the timeout or an I/O error: try again at the next beat. A spool nobody can
      // write: nobody can take the lease either, so the publisher keeps it and keeps sending.
      if (isWriteFailure(error)) this.lease!.holdThroughWriteFailure();
      if (!this.heartbeatFailing)
        this.settings.logger.warn(
          `spool ${this.options.path}: heartbeat failed (reported once until it works again): ${explainSqliteError(error)}`,
        );
      this.heartbeatFailing = true;
    }
    if (this.closed) return;
    this.heartbeat = setTimeout(() => this.beat(), this.options.pollMs);
    this.heartbeat.unref();
  }

  /** Rows only ever leave from the front, so the span of sequence numbers counts them. */
  private countStored(): void {
    try {
      const { first, last } = this.outbox.bounds();
      this.stored = first === null || last === null ? 0 : Math.max(0, last - Math.max(first - 1, this.settledThrough));
    } catch {
      // Unreadable for now: keep the last count (put() must not throw a SQLite error).
    }
    this.countedAt = Date.now();
  }
}
