import type { Logger } from "../core/log.js";
import { unrefTimer } from "../core/timers.js";
import type { Stopping } from "./stop-signal.js";
import type { ForwarderObserver } from "./observer.js";
import type { RateLimit } from "./rate-limit.js";
import { backoffDelay, classifyError } from "./retry.js";
import type { SendResult, Sink } from "./sink.js";
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
  observer: ForwarderObserver;
}

/** Outcome of one batch after all its retries: the sink's last answer, or `stopped` when close() cut it short. */
export type Outcome = SendResult | { ok: false; stopped: true; reason: string };

export const STOPPED_REASON = "the forwarder closed before they were delivered (close() deadline)";

/**
 * Sends one batch until the store takes it, rejects it, or the failure policy gives up: waiting
 * for the rate limit before every request, backing off (and honouring Retry-After) between them.
 * Its pauses are unref'd; `stopping` ends them. While `urgent` (flush() or close() waits), the
 * rate limit does not apply.
 */
export class BatchSender {
  private failing = false;
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

  /** `payloadBytes`: see Sink.send. */
  async send(events: readonly QueuedEvent[], payloadBytes?: number): Promise<Outcome> {
    const { settings, sink, rateLimit, stopping, observer } = this.parts;
    let attempts = 0;
    let failures = 0;
    let budgetStart: number | undefined;
    for (;;) {
      await this.waitForRateLimit();
      if (stopping.aborted) return stopped();
      await rateLimit.record();
      observer.onRequestStart(events.length, failures > 0, payloadBytes);
      const started = performance.now();
      const result = await this.sendOnce(events, payloadBytes);
      // A request cut short by close() is not the store's failure.
      if (!result.ok && stopping.aborted) return stopped();
      observer.onRequest(result, performance.now() - started, events.length);
      if (result.ok) {
        if (this.failing) settings.logger.warn(`${sink.description} accepts events again`);
        this.failing = false;
        return result;
      }
      failures++;
      if (!result.retry) return failures === 1 ? result : { ...result, attempts: failures };
      if (!this.failing) settings.logger.warn(`${sink.description}: ${result.reason}; retrying with backoff`);
      this.failing = true;
      const backoff = backoffDelay(failures, settings.backoffBaseMs, settings.backoffMaxMs);
      const asked = Math.min(result.retryAfterMs ?? 0, settings.maxRetryAfterMs);
      let wait = Math.max(backoff, asked);
      // A store that did not take the batch wrote nothing: hold it (the queue bound limits the cost).
      if (!result.unreachable) {
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

  /** A sink should never throw; one that does (a custom one, say) is treated as a network error. */
  private async sendOnce(events: readonly QueuedEvent[], payloadBytes: number | undefined): Promise<SendResult> {
    try {
      return await this.parts.sink.send(events, this.parts.stopping, payloadBytes);
    } catch (error) {
      return classifyError(error, false);
    }
  }

  private async waitForRateLimit(): Promise<void> {
    for (;;) {
      if (this.urgent || this.parts.stopping.aborted) return;
      const delay = await this.parts.rateLimit.delay();
      if (delay <= 0 || this.urgent || this.parts.stopping.aborted) return;
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

function stopped(): Outcome {
  return { ok: false, stopped: true, reason: STOPPED_REASON };
}
