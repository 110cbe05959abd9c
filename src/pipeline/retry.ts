import type { Failure } from "./sink.js";

// The failure policy's reading of an answer: what to retry, how long to wait.

/**
 * Statuses that say the store (or the proxy in front of it) is not there now: 429 and 503 "come
 * back later", 502 and 504 a gateway whose store is down. Held like a refused connection: the
 * rows are sent again with the same ids, so "the store may have written it" is no reason to drop.
 */
const STORE_AWAY = new Set([429, 502, 503, 504]);

/** The statuses that say "this sender cannot write here" unless a store names its own. */
export const SENDER_REFUSED: readonly number[] = [401, 403];

/**
 * How the forwarder reacts to an HTTP status that is not a success. 501 and 505 say the server
 * will never take such a request, so they are not retried, unless `retryEvery5xx` (the collector,
 * as baseplate's publisher retries every status from 500). `senderRefused`: the statuses that
 * mean the store refuses this sender (credentials, permission, a table not there yet), held
 * until someone puts it right.
 */
export function classifyStatus(
  status: number,
  retryAfter: string | undefined,
  now: number,
  reason: string,
  retryEvery5xx = false,
  senderRefused: readonly number[] = SENDER_REFUSED,
): Failure {
  const refused = senderRefused.includes(status);
  const retry =
    refused ||
    status === 408 ||
    status === 429 ||
    (status >= 500 && (retryEvery5xx || (status !== 501 && status !== 505)));
  return {
    ok: false,
    retry,
    unreachable: STORE_AWAY.has(status),
    refused: refused || undefined,
    retryAfterMs: retry ? parseRetryAfter(retryAfter, now) : undefined,
    splittable: status === 400 || status === 413 || status === 422,
    status,
    reason,
  };
}

/** A failure's answer in a few words, for stats().holding and the status command: "HTTP 401", "network error ECONNREFUSED". */
export function answerOf(failure: Failure): string {
  if (failure.status !== undefined) return `HTTP ${failure.status}`;
  const colon = failure.reason.indexOf(":");
  return colon === -1 ? failure.reason : failure.reason.slice(0, colon);
}

/** Whether two failures are the same answer from the store (what the sender added when it gave up aside). */
export function sameAnswer(a: Failure, b: Failure): boolean {
  return a.status === b.status && storeSaid(a.reason) === storeSaid(b.reason);
}

const GAVE_UP = / \(gave up[^)]*\)$/;

function storeSaid(reason: string): string {
  return reason.replace(GAVE_UP, "");
}

/** Error codes that mean nothing reached the store, so nothing can have been written. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** How the forwarder reacts to a request that failed without an HTTP answer. */
export function classifyError(error: unknown, timedOut: boolean): Failure {
  if (timedOut) return { ok: false, retry: true, reason: "the request timed out (option requestTimeoutMs)" };
  const err = (error ?? {}) as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  return {
    ok: false,
    retry: true,
    unreachable: code !== undefined && UNREACHABLE_CODES.has(code),
    reason: `network error${code ? ` ${code}` : ""}: ${err.message ?? String(error)}`,
  };
}

// The three HTTP-date forms of RFC 9110 section 5.6.7. Date.parse alone is far too lenient:
// it reads "1.5" or "2099" as dates.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP date (a date in the past means
 * "now"). Anything else is ignored (undefined), so the usual backoff applies.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,15}$/.test(trimmed)) return Number(trimmed) * 1000;
  let date = Number.NaN;
  if (IMF_FIXDATE.test(trimmed) || RFC850_DATE.test(trimmed)) date = Date.parse(trimmed);
  // asctime carries no zone, and HTTP dates are always GMT; Date.parse would read local time.
  else if (ASCTIME_DATE.test(trimmed)) date = Date.parse(`${trimmed} GMT`);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": the step doubles from `baseMs` with each failure up to
 * `maxMs`; half of it is fixed, half random, so many clients do not retry in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return step / 2 + random() * (step / 2);
}
