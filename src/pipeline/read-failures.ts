import type { Logger } from "../core/log.js";
import { backoffDelay } from "./retry.js";

/** Failed reads in a row after which a spool's publisher gives its lease up for another process to try. */
export const LEASE_AFTER_FAILED_READS = 5;

/**
 * The forwarder's turns that failed in a row: a read of the queue that threw (SQLITE_CORRUPT,
 * SQLITE_IOERR, Redis not answering), a logger or hook that threw, or a batch that could not be
 * finished (its dropped events could not be kept as dead letters). Each failure pushes the next
 * turn back (the backoff the sender uses), so a broken read never becomes a hot loop; one line
 * per episode. After LEASE_AFTER_FAILED_READS failed reads, the caller gives the spool's lease up.
 */
export class ReadFailures {
  /** Turns that failed in a row (0: the last one worked). */
  count = 0;
  /** The last failure, in words (no secret: SQLite and Redis messages name no password). */
  reason = "";
  private reads = 0;

  constructor(
    private readonly logger: Logger,
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /**
   * Notes a failed turn; returns how long to wait before the next, and whether the lease should
   * be given up now (`read`: the queue's read failed, not the batch's end).
   */
  failed(reason: string, read: boolean): { waitMs: number; giveUpLease: boolean } {
    this.count++;
    if (read) this.reads++;
    this.reason = reason;
    const waitMs = backoffDelay(this.count, this.baseMs, this.maxMs);
    if (this.count === 1)
      this.log(
        "error",
        `the forwarder's turn failed: ${reason}; trying again with backoff (reported once until it works again)`,
      );
    return { waitMs, giveUpLease: read && this.reads === LEASE_AFTER_FAILED_READS };
  }

  succeeded(): void {
    if (this.count === 0) return;
    this.log("warn", `the forwarder works again after ${this.count} failed turn(s)`);
    this.count = 0;
    this.reads = 0;
    this.reason = "";
  }

  /** A logger that throws must not make the failure path throw too. */
  private log(level: "error" | "warn", message: string): void {
    try {
      this.logger[level](message);
    } catch {
      // Nothing more to do: the state is in stats().
    }
  }
}
