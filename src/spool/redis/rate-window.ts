import type { RedisConnection } from "./connection.js";
import type { RateLimit, RateLimiter } from "../../pipeline/rate-limit.js";
import type { SpoolKeys } from "./scripts.js";

/**
 * The fleet's rate limit: the start times of the last requests, kept in Redis (a sorted set
 * scored on Redis's clock), so maxRate per period holds for every process that shares the spool,
 * across a change of holder, whatever the hosts' clocks say. While Redis does not answer, the
 * process limits itself with the root's local limiter, which records its own requests too (it
 * cannot take new events then anyway).
 */
export class RedisRateWindow implements RateLimit {
  private counter = 0;

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: SpoolKeys,
    private readonly local: RateLimiter,
    private readonly maxRate: number,
    private readonly periodMs: number,
    private readonly holderId: string,
  ) {}

  async delay(): Promise<number> {
    if (this.periodMs === 0) return 0; // timePeriod 0: no limit, no round trip
    try {
      return Number(await this.connection.run("rate", [this.keys.rate], [this.maxRate, this.periodMs, ""]));
    } catch {
      return this.local.delayAt(Date.now());
    }
  }

  /** Checks the fleet's window and records the start in one script, so two holders never both get the last slot. */
  async acquire(force: boolean): Promise<number> {
    if (this.periodMs === 0) return 0;
    let wait: number;
    try {
      wait = Number(
        await this.connection.run(
          "rate",
          [this.keys.rate],
          [this.maxRate, this.periodMs, `${this.holderId}:${++this.counter}`, force ? "1" : ""],
        ),
      );
    } catch {
      // Redis does not answer: this process limits itself by its own record.
      return this.local.acquireAt(Date.now(), force);
    }
    if (wait === 0) this.local.recordAt(Date.now());
    return wait;
  }
}
