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

  async record(): Promise<void> {
    this.local.recordAt(Date.now());
    if (this.periodMs === 0) return;
    try {
      await this.connection.run(
        "rate",
        [this.keys.rate],
        [this.maxRate, this.periodMs, `${this.holderId}:${++this.counter}`],
      );
    } catch {
      // Redis does not answer: this process still limits itself by its own record.
    }
  }
}
