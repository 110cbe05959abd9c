import type { Logger } from "../core/log.js";
import type { ForwarderChannels } from "../observe/channels.js";
import type { RateLimiter } from "./rate-limit.js";
import { backoffDelay, classifyError, type SendResult } from "./retry.js";
import type { Sink } from "../stores/sink.js";

export interface RetrySettings {
  maxAttempts: number;
  retryBudgetMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  logger: Logger;
}

/** The request counters a sender keeps (the forwarder's stats() reports them). */
export interface RequestCounts {
  requests: number;
  retried: number;
  failedRequests: number;
}

/** Outcome of one batch after all its retries; `stopped` when close() cut it short. */
export type Outcome = SendResult | { ok: false; stopped: true; reason: string };

export const STOPPED_REASON = "the forwarder closed before they were delivered (close() deadline)";

/**
 * Sends one batch until the store takes it, rejects it, or the failure policy gives up: waiting
 * for the rate limit before every request, backing off (and honouring Retry-After) between them.
 * Its pauses are unref'd; `stopping` ends them, and wake() ends a rate-limit wait (for flush()).
 */
export class BatchSender {
  private failing = false;
  private wakeRateWait: (() => void) | undefined;

  constructor(
    private readonly settings: RetrySettings,
    private readonly sink: Sink,
    private readonly limiter: Pick<RateLimiter, "delay" | "record">,
    private readonly stopping: AbortSignal,
    /** True while flush() or close() waits: the rate limit then does not apply. */
    private readonly urgent: () => boolean,
    readonly counts: RequestCounts,
    private readonly channels: ForwarderChannels,
  ) {}

  /** Ends a wait for the rate limit now (flush() does not wait for it). */
  wake(): void {
    this.wakeRateWait?.();
  }

  /** `payloadBytes`: see Sink.send. */
  async send(payloads: string[], payloadBytes?: number): Promise<Outcome> {
    let attempts = 0;
    let failures = 0;
    let budgetStart: number | undefined;
    for (;;) {
      await this.waitForRateLimit();
      if (this.stopping.aborted) return { ok: false, stopped: true, reason: STOPPED_REASON };
      this.limiter.record(Date.now());
      this.counts.requests++;
      if (failures > 0) this.counts.retried++;
      // Traced only while someone subscribes to the send channel: otherwise no context is built.
      const result = this.channels.tracing
        ? await this.channels.trace(payloads.length, payloadBytes ?? 0, failures + 1, () => this.sendOnce(payloads, payloadBytes))
        : await this.sendOnce(payloads, payloadBytes);
      if (!result.ok && this.stopping.aborted) return { ok: false, stopped: true, reason: STOPPED_REASON };
      if (result.ok) {
        if (this.failing) this.settings.logger.warn(`${this.sink.description} accepts events again`);
        this.failing = false;
        return result;
      }
      this.counts.failedRequests++;
      failures++;
      if (!result.retry) return result;
      if (!this.failing) this.settings.logger.warn(`${this.sink.description}: ${result.reason}; retrying with backoff`);
      this.failing = true;
      const backoff = backoffDelay(failures, this.settings.backoffBaseMs, this.settings.backoffMaxMs);
      const wait = Math.max(backoff, Math.min(result.retryAfterMs ?? 0, this.settings.maxRetryAfterMs));
      // A store that did not take the batch wrote nothing: hold it (the queue bound limits the cost).
      if (!result.unreachable) {
        attempts++;
        budgetStart ??= Date.now();
        if (attempts >= this.settings.maxAttempts) return { ...result, reason: `${result.reason} (gave up after ${attempts} attempts, option maxAttempts)` };
        // The budget counts from the first failure that used an attempt; no retry starts after it.
        if (Date.now() + wait - budgetStart > this.settings.retryBudgetMs) {
          return { ...result, reason: `${result.reason} (gave up: no retry fits in the ${this.settings.retryBudgetMs} ms retry budget, option retryBudgetMs)` };
        }
      }
      this.channels.retry(failures, wait, result);
      await this.sleep(wait, false);
    }
  }

  /** A sink should never throw; one that does (a custom one, say) is treated as a network error. */
  private async sendOnce(payloads: string[], payloadBytes: number | undefined): Promise<SendResult> {
    try {
      return await this.sink.send(payloads, this.stopping, payloadBytes);
    } catch (error) {
      return classifyError(error, false);
    }
  }

  private async waitForRateLimit(): Promise<void> {
    for (;;) {
      const delay = this.limiter.delay(Date.now());
      if (delay <= 0 || this.urgent() || this.stopping.aborted) return;
      await this.sleep(delay, true);
    }
  }

  /** An unref'd pause that `stopping` always ends early, and wake() too when `forFlush`. */
  private sleep(ms: number, forFlush: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.removeEventListener("abort", done);
        if (this.wakeRateWait === done) this.wakeRateWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.stopping.addEventListener("abort", done, { once: true });
      if (forFlush) this.wakeRateWait = done;
    });
  }
}
