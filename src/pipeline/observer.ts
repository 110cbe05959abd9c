import type { SendResult } from "./sink.js";

/**
 * The forwarder holds a batch the store does not take, without dropping it: what the store
 * answers and since when. stats().holding shows `answer`; a spool's status shows all of it (the
 * SQLite spool in its lease row, the Redis spool in its own key), in this shape.
 */
export interface Holding {
  /** The answer in a few words: "HTTP 401", "network error ECONNREFUSED". */
  answer: string;
  /** The whole reason, with the hint for the status (never a secret). */
  reason: string;
  /** When the episode began (ms since the epoch). */
  since: number;
}

/**
 * What the forwarder reports as it works. Its own counters (stats()) are one observer; statsd
 * metrics and the sidecar's --debug log are others, given by the root.
 */
export interface ForwarderObserver {
  /** A request to the store starts, carrying `events` events (`bytes` of payloads); `retry`: it repeats a failed one. */
  onRequestStart(events: number, retry: boolean, bytes?: number): void;
  /** That request finished, after `ms`. */
  onRequest(result: SendResult, ms: number, events: number): void;
  /** Events the store acknowledged. */
  onSent(events: number): void;
  /** Events given up on; `status`: the store's HTTP answer, when there was one. */
  onDrop(events: number, reason: string, status?: number): void;
  /** A put() refused because the queue was full. */
  onOverflow(reason?: string): void;
  /** A failed request will be repeated after `delayMs` (`attempt`: the one that failed). */
  onRetry?(attempt: number, delayMs: number, failure: { status?: number; reason: string }): void;
  /** The queue passed half of its bound ("high"), or is back under a quarter ("normal"). */
  onBacklog?(level: "high" | "normal", waiting: number, bound: number): void;
  /** The forwarder's turn failed (`failures` in a row): a read of the queue threw, say. */
  onTurnFailed?(failures: number, reason: string): void;
  /** The forwarder begins holding (or holds for another answer), or stops holding (undefined). */
  onHolding?(holding: Holding | undefined): void;
}

/** Several observers as one. */
export function combineObservers(observers: readonly ForwarderObserver[]): ForwarderObserver {
  if (observers.length === 1) return observers[0]!;
  return {
    onRequestStart: (events, retry, bytes) => observers.forEach((o) => o.onRequestStart(events, retry, bytes)),
    onRequest: (result, ms, events) => observers.forEach((o) => o.onRequest(result, ms, events)),
    onSent: (events) => observers.forEach((o) => o.onSent(events)),
    onDrop: (events, reason, status) => observers.forEach((o) => o.onDrop(events, reason, status)),
    onOverflow: (reason) => observers.forEach((o) => o.onOverflow(reason)),
    onRetry: (attempt, delayMs, failure) => observers.forEach((o) => o.onRetry?.(attempt, delayMs, failure)),
    onBacklog: (level, waiting, bound) => observers.forEach((o) => o.onBacklog?.(level, waiting, bound)),
    onTurnFailed: (failures, reason) => observers.forEach((o) => o.onTurnFailed?.(failures, reason)),
    onHolding: (holding) => observers.forEach((o) => o.onHolding?.(holding)),
  };
}

/** The forwarder's counters: the one source of the counts stats() reports. */
export class Counters implements ForwarderObserver {
  sent = 0;
  dropped = 0;
  overflowed = 0;
  requests = 0;
  retried = 0;
  failedRequests = 0;
  holding: Holding | undefined;

  onRequestStart(_events: number, retry: boolean): void {
    this.requests++;
    if (retry) this.retried++;
  }

  onRequest(result: SendResult): void {
    if (!result.ok) this.failedRequests++;
  }

  onSent(events: number): void {
    this.sent += events;
  }

  onDrop(events: number): void {
    this.dropped += events;
  }

  onOverflow(): void {
    this.overflowed++;
  }

  onHolding(holding: Holding | undefined): void {
    this.holding = holding;
  }
}
