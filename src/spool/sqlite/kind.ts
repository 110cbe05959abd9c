import type { ResolvedOptions } from "../../config/options.js";
import type { RateLimiter } from "../../pipeline/rate-limit.js";
import type { MadeQueue } from "../kind.js";
import { SqliteDeadLetters } from "./dead-letters.js";
import { SpoolQueue } from "./spool.js";
import { SqliteDeliveryLog } from "./status.js";

/**
 * The SQLite spool as a queue kind (src/spool/kinds.ts): a file shared by the processes of one
 * host; its lease row carries the rate window over, its dead letters live beside the outbox.
 */
export function createSqliteSpool(o: ResolvedOptions, limiter: RateLimiter): MadeQueue {
  const options = o.spool;
  if (options?.kind !== "sqlite") throw new Error("spool/sqlite: the options name no SQLite spool"); // QUEUE_KINDS never asks
  const allowSymlink = o.allowSymlinks;
  const queue = new SpoolQueue(options, { publisher: o.publisher, limiter, logger: o.logger, allowSymlink });
  return {
    queue,
    rateLimit: queue.rateLimit,
    deadLetters: new SqliteDeadLetters(options.path, options.maxDeadLetters, o.logger, "spool", allowSymlink),
    observer: new SqliteDeliveryLog(options.path, allowSymlink),
  };
}
