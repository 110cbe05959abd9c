import type { ResolvedOptions } from "../config/options.js";
import type { EventQueue } from "../pipeline/queue.js";
import type { RateLimit, RateLimiter } from "../pipeline/rate-limit.js";
import type { ForwarderObserver } from "../pipeline/observer.js";
import type { DeadLetterStore } from "./dead-letters.js";

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

/**
 * One kind of queue: given the options and the local rate limiter the root built, the queue it
 * makes. Each spool folder exports one (its kind.ts); spool/kinds.ts lists them.
 */
export type QueueMaker = (o: ResolvedOptions, limiter: RateLimiter) => MadeQueue;
