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

/** The eight columns datasette-events-forward writes, in its order (spelled out, not imported). */
export const EIGHT_COLUMNS = ["id", "instance", "event", "created", "actor_id", "database_name", "table_name", "properties"];

export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** `created` as datasette-events-forward writes it: Python's isoformat() of a UTC datetime (no fraction when it is zero). */
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}000)?\+00:00$/;
