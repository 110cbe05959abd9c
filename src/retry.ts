/** What a sink learned from one attempt to deliver a batch. */
export type SendResult =
  | { ok: true }
  | {
      ok: false;
      /** Worth sending again later (network trouble, timeouts, 408, 429, most 5xx). */
      retry: boolean;
      /** The store could not be reached at all: the batch is held without using up attempts. */
      unreachable?: boolean;
      /** The store asked for this pause (Retry-After), in milliseconds. */
      retryAfterMs?: number;
      /** The store rejected the content: splitting the batch can isolate the bad events. */
      splittable?: boolean;
      status?: number;
      /** What went wrong, for logs and onDrop; never holds a secret. */
      reason: string;
    };

export type Failure = Extract<SendResult, { ok: false }>;

/** How the forwarder reacts to an HTTP status that is not a success. */
export function classifyStatus(status: number, retryAfter: string | undefined, now: number, reason: string): Failure {
  const retry = status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
  return {
    ok: false,
    retry,
    retryAfterMs: retry ? parseRetryAfter(retryAfter, now) : undefined,
    splittable: status === 400 || status === 413 || status === 422,
    status,
    reason,
  };
}

/** Error codes that mean nothing reached the store, so nothing can have been written. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** How the forwarder reacts to a request that failed without an HTTP answer. */
export function classifyError(error: unknown, timedOut: boolean): Failure {
  const err = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  if (timedOut) return { ok: false, retry: true, reason: "the request timed out (option requestTimeoutMs)" };
  return {
    ok: false,
    retry: true,
    unreachable: code !== undefined && UNREACHABLE_CODES.has(code),
    reason: `network error${code ? ` ${code}` : ""}: ${err.message ?? String(error)}`,
  };
}

/** Retry-After in seconds or as an HTTP date, as milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with "equal jitter": half the step is fixed, half is random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return step / 2 + random() * (step / 2);
}
