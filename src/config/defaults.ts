/** Every default, in one place; README documents each. */
export const DEFAULTS = {
  name: "events",
  table: "datasette_events",
  batchLimit: 10,
  maxBatchBytes: 500 * 1024,
  batchWaitMs: 0,
  maxRate: 1,
  timePeriod: 10,
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
  expressDictionaryMode: true,
  database: "./events.db",
} as const;

/**
 * Where a store needs other defaults than DEFAULTS (README explains each). The collector, as
 * baseplate's publisher: batches cut by bytes (500 KiB) rather than count, waiting up to ~1 s to
 * fill, posted as fast as they fill (one request in flight; the rate limit is only a safety cap),
 * retried until the time budget runs out, however many attempts that takes. The embedded store is
 * a local file, not a server to spare: bigger batches, sent more often.
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
  sqlite: {
    batchLimit: 100,
    maxRate: 20,
    timePeriod: 1,
  },
} as const;
