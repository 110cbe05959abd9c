import type { QueueKind } from "./contract.js";
import type { ResolvedRedisSpoolOptions } from "./options.js";
import { RedisRateWindow } from "./rate-window.js";
import { spoolKeys } from "./scripts.js";
import { RedisSpoolQueue } from "./spool.js";

/**
 * The Redis spool as a queue kind: its queue, and the rate limit it shares with the fleet (a
 * window in Redis on Redis's clock) in place of the root's local one.
 */
export const redisSpoolKind: QueueKind<ResolvedRedisSpoolOptions> = {
  create(options, { publisher, logger, maxRate, periodMs }) {
    const queue = new RedisSpoolQueue(options, { publisher, logger });
    const limiter = new RedisRateWindow(queue.connection, spoolKeys(options.key), maxRate, periodMs, queue.lease?.holderId ?? "writer");
    return { queue, limiter };
  },
};
