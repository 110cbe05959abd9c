import type { RetrySettings } from "./batch-sender.js";
import type { DeadLetterSink } from "./dead-letters.js";
import type { ForwarderObserver } from "./observer.js";
import type { EventQueue, QueueStats } from "./queue.js";
import type { RateLimit } from "./rate-limit.js";
import type { Sink } from "./sink.js";

// What the forwarder (forwarder.ts) is built from and what it reports: its settings and parts,
// stats() and close()'s result.

/** What the forwarder needs beyond the failure policy its BatchSender applies. */
export interface ForwarderSettings extends RetrySettings {
  batchLimit: number;
  maxBatchBytes: number;
  batchWaitMs: number;
  onDrop?: (events: string[], reason: string) => void;
  /** For stats().capacityPerSecond and the backlog warning (the rate limit itself is a part). */
  maxRate: number;
  timePeriod: number;
  /** The queue's bound, for the backlog warning (see queueBound). */
  maxQueueSize?: number;
  maxQueueBytes?: number;
  spool?: { maxEvents: number };
}

/** What the forwarder works with; the root builds each part, and closes it. */
export interface ForwarderParts {
  settings: ForwarderSettings;
  sink: Sink;
  queue: EventQueue;
  /** The local rate limit, or one a spool shares between processes. */
  rateLimit: RateLimit;
  /** Keeps the events the forwarder drops (a spool's dead letters). */
  deadLetters?: DeadLetterSink;
  /** Who else hears what happens (metrics, a debug log); stats() has its own counters. */
  observers?: readonly ForwarderObserver[];
  /** The share of the queue's bound request events may fill (see enqueue); 1 (the default): all of it. */
  requestEventShare?: number;
  /** What an event's text must be before it joins a body (see BatchDelivery); the store kind's rowCheck. */
  check?: (json: string) => string | undefined;
}

export interface ForwarderStats extends QueueStats {
  /** Events accepted and not yet delivered or dropped (including the batch in flight). */
  queued: number;
  /** Events the store acknowledged. */
  sent: number;
  /** Requests that repeated an earlier, failed one. */
  retried: number;
  /** Events given up on (rejected by the store, out of attempts, or closed before delivery). */
  dropped: number;
  /** put() calls refused because the queue was full (events are counted here, not in dropped). */
  overflowed: number;
  /** Requests made to the store. */
  requests: number;
  /** Requests that did not succeed. */
  failedRequests: number;
  /**
   * While the store does not take a batch and the forwarder holds it (an unreachable store, a 502
   * to 504, a refused token or a missing table): the answer, e.g. "HTTP 401". Absent otherwise.
   */
  holding?: string;
  /** Events per second the rate limit lets through: batchLimit (or the store's lower row limit) × maxRate / timePeriod. */
  capacityPerSecond: number;
  /** The forwarder's turns that failed in a row (a read of the spool that threw, say): 0 when the last one worked. */
  failedTurns: number;
  /** The last of those failures, in words, while failedTurns > 0. */
  failure?: string;
}

export interface CloseResult {
  /** Events the store acknowledged over this forwarder's life. */
  delivered: number;
  /** Events accepted but never acknowledged: dropped, or still queued at the deadline. */
  undelivered: number;
  /** With a spool: the events still queued, kept in it for the next publisher (not lost). */
  spooled?: number;
}
