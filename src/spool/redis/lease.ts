import { builtin } from "../../core/builtin.js";
import { hostname } from "node:os";
import type { RedisConnection } from "./connection.js";
import type { SpoolKeys } from "./scripts.js";

/** Who holds the publisher lease, as stored in `{key}:lease` (an operator's status command reads it). */
export interface LeaseHolder {
  id: string;
  host: string;
  pid: number;
  /** When this holder took the lease, in ms since the epoch on Redis's clock. */
  since: number;
}

/**
 * The publisher lease in Redis: one key naming the one process of the fleet that may send, with
 * an expiry. The holder renews it; when it dies the key expires and the next process that
 * tries takes it (SET NX PX, in a script that renews only for the holder).
 *
 * This process counts the lease as held until leaseMs after it *sent* its last successful
 * claim: Redis started the expiry later than that, so the holder stops before Redis lets anyone
 * else start, whatever the two clocks say. It measures on the monotonic clock (performance.now()):
 * the wall clock may step backwards (NTP, a VM resumed), which would stretch the lease here while
 * Redis ends it on time.
 */
export class RedisLease {
  readonly holderId = `${hostname()}:${process.pid}:${builtin("node:crypto").randomUUID().slice(0, 8)}`;
  /** On the monotonic clock (performance.now()), as renewedAt and restUntil. */
  private expiresAt = 0;
  private renewedAt = 0;
  /** After standDown(): the lease is not taken again before then. */
  private restUntil = 0;

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: SpoolKeys,
    private readonly leaseMs: number,
  ) {}

  held(): boolean {
    return this.expiresAt > performance.now();
  }

  /**
   * Renews the lease if we hold it (at most every leaseMs / 5), takes it if it is free.
   * Returns true when this call took it. Throws when Redis does not answer.
   */
  async refresh(): Promise<boolean> {
    const sentAt = performance.now();
    if (sentAt < this.restUntil) return false;
    if (this.held() && sentAt - this.renewedAt < this.leaseMs / 5) return false;
    const result = Number(
      await this.connection.run(
        "leaseClaim",
        [this.keys.lease],
        [this.holderId, hostname(), process.pid, this.leaseMs],
      ),
    );
    if (result === 0) {
      this.expiresAt = 0;
      return false;
    }
    const wasHeld = this.held();
    this.expiresAt = sentAt + this.leaseMs;
    this.renewedAt = sentAt;
    return result === 2 || !wasHeld;
  }

  /** Gives the lease up and takes it again only after a lease's length: another process may do better. */
  async standDown(): Promise<void> {
    this.restUntil = performance.now() + this.leaseMs;
    await this.release();
  }

  /** Gives the lease up at once, so another process need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.expiresAt === 0) return;
    this.expiresAt = 0;
    await this.connection.run("leaseRelease", [this.keys.lease], [this.holderId]);
  }
}
