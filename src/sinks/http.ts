import { Agent, request, type Dispatcher } from "undici";
import { classifyError, classifyStatus, type SendResult } from "../retry.js";
import { redactSecrets } from "../transport-security.js";

/** One keep-alive connection per forwarder: batches go one at a time, so one warm socket is enough. */
export function createAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 1 });
}

export interface PostOptions {
  dispatcher: Dispatcher;
  url: URL;
  headers: Record<string, string>;
  body: string | Buffer;
  timeoutMs: number;
  signal: AbortSignal;
  /** Turns an error answer's body into a reason a person can act on. */
  explain: (status: number, body: string) => string;
  /** Credentials the request carries: cut out of any reason, should the store echo them. */
  secrets?: readonly string[];
}

/** POSTs one batch and classifies the outcome; never throws, and its reasons hold no secret. */
export async function postBatch(options: PostOptions): Promise<SendResult> {
  const result = await post(options);
  if (result.ok || options.secrets === undefined) return result;
  return { ...result, reason: redactSecrets(result.reason, options.secrets) };
}

async function post(options: PostOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, options.signal]);
  try {
    const response = await request(options.url, {
      method: "POST",
      dispatcher: options.dispatcher,
      headers: options.headers,
      body: options.body,
      signal,
    });
    const text = await response.body.text();
    if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true };
    const retryAfter = response.headers["retry-after"];
    return classifyStatus(
      response.statusCode,
      Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      Date.now(),
      options.explain(response.statusCode, text),
    );
  } catch (error) {
    return classifyError(error, timeout.aborted);
  }
}

/** The URL as it may appear in logs: no user, no password, no query. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
