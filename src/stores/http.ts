import { classifyError, classifyStatus } from "../pipeline/retry.js";
import type { SendResult } from "../pipeline/sink.js";
import { redactSecrets } from "../core/secret.js";
import { unrefTimer } from "../core/timers.js";
import type { Transport } from "./transport.js";
import type { Stopping } from "../pipeline/stop-signal.js";

export interface PostOptions {
  transport: Transport;
  url: URL;
  headers: Record<string, string>;
  body: string | Uint8Array;
  timeoutMs: number;
  signal: Stopping;
  /** Turns an error answer's body into a reason a person can act on. */
  explain: (status: number, body: string) => string;
  /** Reads an answer refusing the batch for its row count: the most rows the store takes a write. */
  maxRows?: (status: number, body: string) => number | undefined;
  /** Retry 501 and 505 too, as every other 5xx (see classifyStatus). */
  retryEvery5xx?: boolean;
  /** Statuses that mean "this sender cannot write here" (held, not dropped); 401 and 403 when not given. */
  senderRefused?: readonly number[];
  /** Credentials the request carries: cut out of any reason, should the store echo them. */
  secrets?: readonly string[];
}

/** The most of an answer's body that is read: error pages are short, and nothing needs more to be explained. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** POSTs one batch and classifies the outcome; never throws, and its reasons hold no secret. */
export async function postBatch(options: PostOptions): Promise<SendResult> {
  const result = await post(options);
  if (result.ok || options.secrets === undefined) return result;
  return { ...result, reason: redactSecrets(result.reason, options.secrets) };
}

/**
 * The answer's body as text, at most MAX_ANSWER_BYTES of it (the rest is not read: the connection
 * is closed instead), with the request's secrets redacted before anything quotes or cuts it.
 */
async function answerText(body: AsyncIterable<Uint8Array>, secrets?: readonly string[]): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let cut = false;
  for await (const chunk of body) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes > MAX_ANSWER_BYTES) {
      cut = true;
      break; // ends the stream; the client closes the connection rather than read the rest
    }
  }
  let text = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString("utf8");
  if (secrets === undefined) return text;
  text = redactSecrets(text, secrets);
  if (!cut) return text;
  // A secret that ran past the cut left its start at the end: drop as many characters as it could be.
  const longest = Math.max(
    ...secrets.map((secret) => Math.max(encodeURIComponent(secret).length, 2 * JSON.stringify(secret).length)),
  );
  return text.slice(0, Math.max(0, text.length - longest));
}

async function post(options: PostOptions): Promise<SendResult> {
  // The first batch loads the HTTP client: not a part of its time limit.
  try {
    await options.transport.ready?.();
  } catch (error) {
    return classifyError(error, false);
  }
  // One controller per request, its timer cleared as soon as the answer is in: AbortSignal.timeout
  // would fire (and build a DOMException) for every batch long after it was delivered.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  unrefTimer(timer);
  const stop = () => controller.abort();
  if (options.signal.aborted) stop();
  else options.signal.addEventListener("abort", stop, { once: true });
  try {
    const { status, retryAfter, body } = await options.transport.post({
      url: options.url,
      headers: options.headers,
      body: options.body,
      signal: controller.signal,
    });
    const text = await answerText(body, options.secrets);
    if (status >= 200 && status < 300) return { ok: true };
    const failure = classifyStatus(
      status,
      retryAfter,
      Date.now(),
      options.explain(status, text),
      options.retryEvery5xx,
      options.senderRefused,
    );
    const maxRows = options.maxRows?.(status, text);
    return maxRows === undefined ? failure : { ...failure, maxRows };
  } catch (error) {
    return classifyError(error, timedOut);
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", stop);
  }
}

/** A sink's ready(): loads the transport's client; a failure is left for the first send to report. */
export async function readyTransport(transport: Transport): Promise<void> {
  await transport.ready?.().catch(() => {});
}

/** The URL as it may appear in logs: no user, no password, no query. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
