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
