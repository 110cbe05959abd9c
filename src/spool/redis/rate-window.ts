import { RateLimiter } from "../../pipeline/rate-limit.js";
import type { RedisConnection } from "./connection.js";
import type { RateLimit } from "./contract.js";
import type { SpoolKeys } from "./scripts.js";

/**
 * The fleet's rate limit: the start times of the last requests, kept in Redis (a sorted set
 * scored on Redis's clock), so maxRate per period holds for every process that shares the spool,
 * across a change of holder, whatever the hosts' clocks say. While Redis does not answer, the
 * process limits itself with what it recorded (it cannot take new events then anyway).
 */
export class RedisRateWindow implements RateLimit {
  private readonly local: RateLimiter;
  private counter = 0;

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: SpoolKeys,
    private readonly maxRate: number,
    private readonly periodMs: number,
    private readonly holderId: string,
  ) {
    this.local = new RateLimiter(maxRate, periodMs);
  }

  async delay(): Promise<number> {
    try {
      return Number(await this.connection.run("rate", [this.keys.rate], [this.maxRate, this.periodMs, ""]));
    } catch {
      return this.local.delay(Date.now());
    }
  }

  async record(): Promise<void> {
    this.local.record(Date.now());
    try {
      await this.connection.run("rate", [this.keys.rate], [this.maxRate, this.periodMs, `${this.holderId}:${++this.counter}`]);
    } catch {
      // Redis does not answer: this process still limits itself by its own record.
    }
  }
}
