import type { Logger } from "../core/log.js";
import { unrefTimer } from "../core/timers.js";
import type { Stopping } from "./stop-signal.js";
import type { ForwarderObserver } from "./observer.js";
import type { RateLimit } from "./rate-limit.js";
import { answerOf, backoffDelay, classifyError, sameAnswer } from "./retry.js";
import type { Failure, SendResult, Sink } from "./sink.js";
import type { QueuedEvent } from "./queue.js";

/** The failure policy: how often and how long a batch is retried. */
export interface RetrySettings {
  maxAttempts: number;
  retryBudgetMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  logger: Logger;
}

export interface BatchSenderParts {
  settings: RetrySettings;
  sink: Sink;
  rateLimit: RateLimit;
  /** Ends every pause, and the sending, at close()'s deadline. */
  stopping: Stopping;
  /** Whether this process may still send (it holds the spool's lease): asked before every attempt. */
  mayAttempt?: () => boolean;
  observer: ForwarderObserver;
  /** How many events wait, for the warning that the forwarder holds them. */
  waiting: () => number;
}

/** Outcome of one batch after all its retries: the sink's last answer, or `stopped` when close() cut it short. */
export type Outcome = SendResult | { ok: false; stopped: true; reason: string };

export const STOPPED_REASON = "the forwarder closed before they were delivered (close() deadline)";
const LEASE_LOST_REASON = "this process no longer holds the spool's publisher lease: the next holder sends the batch";

/**
 * Sends one batch until the store takes it, rejects it, or the failure policy gives up: waiting
 * for the rate limit before every request, backing off (and honouring Retry-After) between them.
 * Its pauses are unref'd; `stopping` ends them. While `urgent` (flush() or close() waits), the
 * rate limit does not apply.
 */
export class BatchSender {
  private failing = false;
  /** The answer the forwarder holds a batch for now (stats().holding), if it does. */
  private heldFor: string | undefined;
  /** The current episode of failures (until a success) has warned that it holds events. */
  private holdWarned = false;
  private holdingSince = 0;
  private urgentCount = 0;
  private wakeRateWait: (() => void) | undefined;

  constructor(private readonly parts: BatchSenderParts) {}

  /** flush() and close() begin (true) or end (false) waiting: the rate limit is lifted meanwhile. */
  setUrgent(urgent: boolean): void {
    this.urgentCount += urgent ? 1 : -1;
    if (urgent) this.wakeRateWait?.();
  }

  get urgent(): boolean {
    return this.urgentCount > 0;
  }

  /**
   * `payloadBytes`: see Sink.send. `holdOn`: an answer about the batch as a whole (its halves got
   * it too), held as an unreachable store is rather than given back.
   */
  async send(events: readonly QueuedEvent[], payloadBytes?: number, holdOn?: Failure): Promise<Outcome> {
    const { settings, sink, stopping, observer } = this.parts;
    let attempts = 0;
    let failures = 0;
    let budgetStart: number | undefined;
    // Before the first slot: a slot taken while the HTTP client loads (100 ms or more, once) would
    // let this request reach the store late, close behind the next ones, over the rate it sees.
    await sink.ready?.();
    for (;;) {
      await this.waitForRateLimit();
      if (stopping.aborted) return stopped();
      // A holder that lost its lease (it stalled, another process took over) must not go on beside the new one.
      if (this.parts.mayAttempt?.() === false) return stopped(LEASE_LOST_REASON);
      observer.onRequestStart(events.length, failures > 0, payloadBytes);
      const started = performance.now();
      const result = await this.sendOnce(events, payloadBytes);
      // A request cut short by close() is not the store's failure.
      if (!result.ok && stopping.aborted) return stopped();
      observer.onRequest(result, performance.now() - started, events.length);
      if (result.ok) {
        if (this.failing) settings.logger.warn(`${sink.description} accepts events again`);
        this.failing = false;
        this.holdWarned = false;
        this.hold(undefined);
        return result;
      }
      failures++;
      // The store, or this sender, is the trouble, not the events: hold the batch (the queue
      // bound limits the cost), as long as it takes. Resending writes each row once (ULID ids).
      const holds =
        result.unreachable === true || result.refused === true || (holdOn !== undefined && sameAnswer(result, holdOn));
      if (!result.retry && !holds) return failures === 1 ? result : { ...result, attempts: failures };
      if (holds) this.hold(result);
      else {
        this.hold(undefined);
        if (!this.failing) settings.logger.warn(`${sink.description}: ${result.reason}; retrying with backoff`);
      }
      this.failing = true;
      // A refusal waits for a person (a token, a table): no point asking every few seconds.
      const ceiling = holds && !result.unreachable ? 2 * settings.backoffMaxMs : settings.backoffMaxMs;
      const backoff = backoffDelay(failures, settings.backoffBaseMs, ceiling);
      const asked = Math.min(result.retryAfterMs ?? 0, settings.maxRetryAfterMs);
      let wait = Math.max(backoff, asked);
      if (!holds) {
        attempts++;
        budgetStart ??= Date.now();
        if (attempts >= settings.maxAttempts)
          return {
            ...result,
            attempts: failures,
            reason: `${result.reason} (gave up after ${attempts} attempts, option maxAttempts)`,
          };
        // The budget counts from the first failure that used an attempt. As baseplate's RetryPolicy,
        // the last backoff is cut to what is left of it, for one more try at its end; a Retry-After
        // longer than what is left is not cut (the store asked for it), so the batch gives up.
        const left = budgetStart + settings.retryBudgetMs - Date.now();
        if (left <= 0 || asked > left) {
          return {
            ...result,
            attempts: failures,
            reason: `${result.reason} (gave up: the ${settings.retryBudgetMs} ms retry budget is used up, option retryBudgetMs)`,
          };
        }
        wait = Math.min(wait, left);
      }
      observer.onRetry?.(failures, wait, result);
      await this.sleep(wait, false);
    }
  }

  /**
   * Holds for `failure`'s answer, or holds no more (undefined): observers hear each change, the
   * log one warning per episode of failures (a store that flaps between 502 and a refused
   * connection warns once), and "accepts events again" at its end.
   */
  private hold(failure: Failure | undefined): void {
    const answer = failure === undefined ? undefined : answerOf(failure);
    if (answer === this.heldFor) return;
    const since = this.heldFor === undefined ? Date.now() : undefined;
    this.heldFor = answer;
    if (failure === undefined) {
      this.parts.observer.onHolding?.(undefined);
      return;
    }
    if (!this.holdWarned) {
      this.holdWarned = true;
      this.parts.settings.logger.warn(
        `${this.parts.sink.description}: ${failure.reason}; holding ${this.parts.waiting()} event(s), retrying with backoff until it takes them`,
      );
    }
    this.holdingSince = since ?? this.holdingSince;
    this.parts.observer.onHolding?.({ answer: answer!, reason: failure.reason, since: this.holdingSince });
  }

  /** A sink should never throw; one that does (a custom one, say) is treated as a network error. */
  private async sendOnce(events: readonly QueuedEvent[], payloadBytes: number | undefined): Promise<SendResult> {
    try {
      return await this.parts.sink.send(events, this.parts.stopping, payloadBytes);
    } catch (error) {
      return classifyError(error, false);
    }
  }

  /** Waits until the rate limit records this request's start (one step: a shared window admits one at a time). */
  private async waitForRateLimit(): Promise<void> {
    for (;;) {
      if (this.parts.stopping.aborted) return;
      const force = this.urgent;
      const delay = await this.parts.rateLimit.acquire(force);
      if (delay <= 0 || this.parts.stopping.aborted) return;
      // flush() or close() began while the answer was on its way (a round trip to Redis): no pause to wake, ask again.
      if (!force && this.urgent) continue;
      await this.sleep(delay, true);
    }
  }

  /** An unref'd pause that `stopping` always ends early, and setUrgent(true) too when `rateWait`. */
  private sleep(ms: number, rateWait: boolean): Promise<void> {
    const stopping = this.parts.stopping;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.removeEventListener("abort", done);
        if (this.wakeRateWait === done) this.wakeRateWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      unrefTimer(timer);
      stopping.addEventListener("abort", done, { once: true });
      if (rateWait) this.wakeRateWait = done;
    });
  }
}

function stopped(reason = STOPPED_REASON): Outcome {
  return { ok: false, stopped: true, reason };
}
