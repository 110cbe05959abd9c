/**
 * Every default, in one place (docs/configuration.md documents each). A store's own defaults
 * (SINK_DEFAULTS) merge over DEFAULTS once, for every option; the spool's are SPOOL_DEFAULTS.
 */
export const DEFAULTS = {
  name: "events",
  table: "datasette_events",
  // Full batches of Datasette's default max_insert_rows, at most 20 requests a second, one in
  // flight: 2,000 events/s (bench/capacity.ts; BENCHMARKS.md, "Capacity").
  batchLimit: 100,
  maxBatchBytes: 500 * 1024,
  batchWaitMs: 0,
  maxRate: 20,
  timePeriod: 1,
  maxAttempts: 3,
  retryBudgetMs: 5 * 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  maxRetryAfterMs: 60_000,
  requestTimeoutMs: 3_000,
  maxEventSize: 102_400,
  maxQueueSize: 10_000,
  maxQueueBytes: 32 * 1024 * 1024,
  shutdownTimeoutMs: 5_000,
  requestEvents: true,
  requestPath: "path",
  allowInsecureHttp: false,
  allowSymlinks: false,
  expressDictionaryMode: true,
  database: "./events.db",
} as const;

export type Defaults = {
  -readonly [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number
    ? number
    : (typeof DEFAULTS)[K] extends boolean
      ? boolean
      : string;
};

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
   * The share of the queue's bound (events and bytes) request events may fill: past it they are
   * refused (counted in overflowed), so traffic alone never makes a handler's put() throw.
   */
  requestEventShare: 0.8,
} as const;
