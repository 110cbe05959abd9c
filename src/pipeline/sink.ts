import type { QueuedEvent } from "./queue.js";
import type { Stopping } from "./stop-signal.js";

/**
 * The sink contract: a store the forwarder delivers to. A sink only knows how to turn a batch of
 * queued events into one request (or one transaction) and how to read the answer; every
 * store in src/stores/ implements it, and the failure policy (batch-sender.ts) reads the result.
 */
export interface Sink {
  /** Where it sends, for logs: no credentials, no query string. */
  readonly description: string;
  /** The exact bytes of the request body for `count` events of `payloadBytes` in all, framing included. */
  bodyBytes?(count: number, payloadBytes: number): number;
  /**
   * `payloadBytes`: the events' UTF-8 bytes in all, when the caller knows them exactly. The same
   * array comes again for each retry of a batch. Never throws.
   */
  send(events: readonly QueuedEvent[], signal: Stopping, payloadBytes?: number): Promise<SendResult>;
  /**
   * Loads what a first send needs (an HTTP client): the sender waits for it before it takes a
   * rate-limit slot, so a slot's request leaves at once. Never throws (send() reports a failure).
   */
  ready?(): Promise<void>;
  /** Frees what the sink holds (a file, say); called once, by whoever built it. */
  close?(): Promise<void>;
}

/** What a sink learned from one attempt to deliver a batch. */
export type SendResult = { ok: true } | Failure;

export interface Failure {
  ok: false;
  /** Set by the sender on the batch's last answer: the requests it made for it. */
  attempts?: number;
  /** Worth sending again later (network trouble, timeouts, 408, 429, most 5xx). */
  retry: boolean;
  /**
   * The store is not there now: it could not be reached (connection refused, DNS...), or it (or
   * the proxy in front of it) answered 429, 502, 503 or 504. The batch is held and retried without
   * using up attempts or the retry budget (the queue bound limits the cost).
   */
  unreachable?: boolean;
  /**
   * The store refuses this sender, not these events: a token it does not accept, a permission it
   * lacks, a table that does not exist yet (Datasette 401, 403, 404; the collector's 401, 403).
   * Held as an unreachable store is, until someone puts it right.
   */
  refused?: boolean;
  /** The store asked for this pause (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /** The store rejected the content: splitting the batch can isolate the bad events. */
  splittable?: boolean;
  /** The store takes at most this many rows a write (Datasette's max_insert_rows): cut the batch to it. */
  maxRows?: number;
  status?: number;
  /** What went wrong, for logs and onDrop; never holds a secret. */
  reason: string;
}
