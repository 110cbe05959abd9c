import type { ResolvedOptions } from "../config/options.js";
import { MemoryQueue } from "../pipeline/memory-queue.js";
import type { EventQueue } from "../pipeline/queue.js";
import type { RateLimit, RateLimiter } from "../pipeline/rate-limit.js";
import { SpoolQueue } from "./sqlite-spool.js";
import { createRedisSpool } from "./redis/kind.js";
import type { ResolvedSpoolOptions } from "../config/spool-options.js";
import type { DeadLetterStore } from "./dead-letters.js";
import type { ForwarderObserver } from "../pipeline/observer.js";
import { SqliteDeliveryLog } from "./sqlite-status.js";
import { DEFAULT_MAX_DEAD_LETTERS, SqliteDeadLetters } from "./sqlite-dead-letters.js";

/** A queue and the rate limit the forwarder must apply with it. */
export interface MadeQueue {
  queue: EventQueue;
  /** The root's local limiter, or one the queue shares between the processes on it. */
  rateLimit: RateLimit;
  /** Where dropped events are kept: the spool's own dead letters, or option deadLetter's file. */
  deadLetters?: DeadLetterStore;
  /** What the queue wants to hear of the forwarder's work (a spool: the last delivery, for `status`). */
  observer?: ForwarderObserver & { close(): void };
}

/** What a queue kind is given: the options, and the local rate limiter the root built. */
export type QueueMaker = (o: ResolvedOptions, limiter: RateLimiter) => MadeQueue;

/**
 * The table of queue kinds: where accepted events wait. Adding a kind (a spool on another
 * server) is one entry here and one folder beside this file; the root reads only this table.
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
  sqlite: (o, limiter) => {
    const queue = new SpoolQueue(o.spool as ResolvedSpoolOptions, {
      publisher: o.publisher,
      limiter,
      logger: o.logger,
      allowSymlink: o.allowSymlinks,
    });
    const deadLetters = new SqliteDeadLetters(
      (o.spool as ResolvedSpoolOptions).path,
      (o.spool as ResolvedSpoolOptions).maxDeadLetters,
      o.logger,
      "spool",
      o.allowSymlinks,
    );
    return {
      queue,
      rateLimit: queue.rateLimit,
      deadLetters,
      observer: new SqliteDeliveryLog((o.spool as ResolvedSpoolOptions).path, o.allowSymlinks),
    };
  },
  /** A list in Redis shared by processes on many hosts; its rate window lives in Redis too. */
  redis: createRedisSpool,
} satisfies Record<string, QueueMaker>;

export type QueueKindName = keyof typeof QUEUE_KINDS;

/** The queue the options ask for. */
export function createQueue(o: ResolvedOptions, limiter: RateLimiter): MadeQueue {
  return QUEUE_KINDS[o.spool === undefined ? "memory" : o.spool.kind](o, limiter);
}
