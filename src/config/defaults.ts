/**
 * The constant defaults that are not an option's own: each store's defaults where they differ
 * from the general ones (SINK_DEFAULTS), the spool's (SPOOL_DEFAULTS), and the bounds that are not
 * options (LIMITS). Every option's own default is in its declaration (config/option-table.ts,
 * stores/<store>/options.ts); DEFAULTS (config/option-defaults.ts) collects them.
 */

/**
 * Where a store needs other defaults than DEFAULTS (docs/configuration.md explains each). The collector, as
 * baseplate's publisher: batches cut by bytes (500 KiB) rather than count, waiting up to ~1 s to
 * fill, posted as fast as they fill (one request in flight; the rate limit is only a safety cap),
 * retried until the time budget runs out, however many attempts that takes. Datasette and the
 * embedded store take the general defaults.
 */
export const SINK_DEFAULTS = {
  datasette: {},
  collector: {
    batchLimit: 10_000,
    batchWaitMs: 1_000,
    maxRate: 20,
    timePeriod: 1,
    maxAttempts: Number.POSITIVE_INFINITY,
    backoffBaseMs: 2_000, // the publisher's RETRY_BACKOFF
    requestEvents: false,
  },
  sqlite: {},
} as const;

/** Option spool's defaults (a SQLite file, or a Redis URL). */
export const SPOOL_DEFAULTS = {
  groupCommitMs: 5,
  maxEvents: 100_000,
  leaseMs: 5_000,
  pollMs: 250,
  synchronous: "normal",
  maxDeadLetters: 100_000,
} as const;

/** Bounds that are not options. */
export const LIMITS = {
  /** The most rows a batch may carry to Datasette or the embedded SQLite file: one write, one transaction. */
  maxBatchRows: 10_000,
  /** The most events a collector batch may carry (its real limit is maxBatchBytes). */
  maxCollectorBatch: 100_000_000,
  /** setTimeout's largest delay (about 24.8 days); a longer close() deadline would fire at once. */
  maxCloseTimeoutMs: 2_147_483_647,
  /** How much longer than its deadline a drain on a signal may keep the process alive. */
  signalGraceMs: 1_000,
  /**
   * How long after its deadline close() stops waiting for the queue (a stalled Redis, a spool
   * file another process locks) and returns; the closing goes on in the background. Less than
   * signalGraceMs, so a signal's drain always ends by close() itself. docs/delivery.md states 1 s.
   */
  closeMarginMs: 500,
  /**
   * The share of the queue's bound (events and bytes) request events may fill: past it they are
   * refused (counted in overflowed), so traffic alone never makes a handler's put() throw.
   */
  requestEventShare: 0.8,
} as const;
