import type { ResolvedOptions } from "../../config/options.js";
import type { RateLimiter } from "../../pipeline/rate-limit.js";
import type { MadeQueue } from "../kind.js";
import { RedisDeadLetters } from "./dead-letters.js";
import { RedisRateWindow } from "./rate-window.js";
import { spoolKeys } from "./scripts.js";
import { RedisSpoolQueue } from "./spool.js";
import { RedisDeliveryLog } from "./status.js";

/**
 * The Redis spool as a queue kind (src/spool/kinds.ts): its queue, the rate limit it shares
 * with the fleet (a window in Redis, on Redis's clock) in place of the root's local one, its
 * dead letters, and what it records for `events-forward status`.
 */
export function createRedisSpool(o: ResolvedOptions, limiter: RateLimiter): MadeQueue {
  const options = o.spool;
  if (options?.kind !== "redis") throw new Error("spool/redis: the options name no Redis spool"); // QUEUE_KINDS never asks
  const queue = new RedisSpoolQueue(options, { publisher: o.publisher, logger: o.logger });
  const periodMs = o.timePeriod * 1000;
  const rateLimit = new RedisRateWindow(
    queue.connection,
    spoolKeys(options.key),
    limiter,
    o.maxRate,
    periodMs,
    queue.lease?.holderId ?? "writer",
  );
  return {
    queue,
    rateLimit,
    deadLetters: new RedisDeadLetters(queue.connection, options.key, queue),
    observer: new RedisDeliveryLog(queue.connection, options.key),
  };
}
