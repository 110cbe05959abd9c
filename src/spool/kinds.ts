import type { ResolvedOptions } from "../config/options.js";
import { MemoryQueue } from "../pipeline/memory-queue.js";
import type { RateLimiter } from "../pipeline/rate-limit.js";
import { createSqliteSpool } from "./sqlite/kind.js";
import { createRedisSpool } from "./redis/kind.js";
import type { MadeQueue, QueueMaker } from "./kind.js";
import { DEFAULT_MAX_DEAD_LETTERS, SqliteDeadLetters } from "./sqlite/dead-letters.js";

/**
 * The table of queue kinds: where accepted events wait. Adding a kind (a spool on another
 * server) is one folder beside this file (its queue, its kind.ts) and one entry here; the root
 * reads only this table.
 */
export const QUEUE_KINDS = {
  /** No spool: a bounded array in this process. */
  memory: (o, limiter) => ({
    queue: new MemoryQueue(o.maxQueueSize, o.maxQueueBytes),
    rateLimit: limiter,
    deadLetters:
      o.deadLetter === undefined
        ? undefined
        : new SqliteDeadLetters(o.deadLetter, DEFAULT_MAX_DEAD_LETTERS, o.logger, "deadLetter", o.allowSymlinks),
  }),
  /** A SQLite file shared by the processes of one host; its lease row carries the rate window over. */
  sqlite: createSqliteSpool,
  /** A list in Redis shared by processes on many hosts; its rate window lives in Redis too. */
  redis: createRedisSpool,
} satisfies Record<string, QueueMaker>;

export type QueueKindName = keyof typeof QUEUE_KINDS;

/** The queue the options ask for. */
export function createQueue(o: ResolvedOptions, limiter: RateLimiter): MadeQueue {
  return QUEUE_KINDS[o.spool === undefined ? "memory" : o.spool.kind](o, limiter);
}
