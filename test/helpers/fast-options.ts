import { silentLogger } from "../../src/core/log.js";

/**
 * The one preset of fast options for tests: no rate limit, short backoff, one instance name.
 * Tests and helpers spread it first and their own options over it.
 */
export const FAST = {
  instance: "test",
  maxRate: 1000,
  timePeriod: 0,
  backoffBaseMs: 5,
  backoffMaxMs: 20,
} as const;

/** The failure policy of a BatchSender built by hand: three attempts, millisecond backoff, silent. */
export const FAST_RETRY = {
  maxAttempts: 3,
  retryBudgetMs: 60_000,
  backoffBaseMs: 1,
  backoffMaxMs: 5,
  maxRetryAfterMs: 100,
  logger: silentLogger,
};

/** The settings of a Forwarder built by hand: FAST_RETRY, no rate limit, each batch sent at once. */
export function forwarderSettings(batchLimit: number) {
  return { batchLimit, maxBatchBytes: 1e6, batchWaitMs: 0, maxRate: 100, timePeriod: 0, ...FAST_RETRY };
}
