import { Mutex } from "async-mutex";
import { cancelLater, later } from "../core/timers.js";
import { StopSignal } from "./stop-signal.js";
import { BacklogReporter, capacityPerSecond, queueBound } from "./backlog.js";
import { EventQueueFullError, RequestEventShareFullError } from "../core/errors.js";
import { BatchSender, STOPPED_REASON } from "./batch-sender.js";
import type { CloseResult, ForwarderParts, ForwarderSettings, ForwarderStats } from "./forwarder-contract.js";
import { combineObservers, Counters, type ForwarderObserver } from "./observer.js";
import { OverflowReporter } from "./overflow.js";
import type { EventQueue, QueuedEvent, Unkept } from "./queue.js";
import type { RateLimit } from "./rate-limit.js";
import { BatchDelivery } from "./batch-delivery.js";
import { RowLimit } from "./row-limit.js";
import type { Sink } from "./sink.js";
import { ReadFailures } from "./read-failures.js";

/** How often flush(alone) looks whether the batch in flight is done. */
const LOCK_POLL_MS = 5;

/**
 * Takes batches from the queue and delivers them to the sink: as soon as the rate limit allows,
 * one request in flight at a time, retrying with backoff (its BatchSender), splitting batches the
 * store rejects. Its timers are unref'd: it never keeps the process alive by itself (but for
 * stop()'s deadline). It closes nothing it was given: the root closes the queue and the sink.
 */
export class Forwarder {
  private readonly settings: ForwarderSettings;
  private readonly sink: Sink;
  private readonly queue: EventQueue;
  private readonly rateLimit: RateLimit;
  private readonly counters = new Counters();
  private readonly observer: ForwarderObserver;
  private readonly sender: BatchSender;
  private readonly delivery: BatchDelivery;
  private readonly requestEventShare: number;
  /** The bound request events stop at: their share of the queue's (see enqueue). */
  private readonly requestBound: { events: number; bytes: number };
  /** batchLimit, or less once the store has said it takes fewer rows a write. */
  private readonly rowLimit: RowLimit;
  private readonly overflow: OverflowReporter;
  private readonly backlog: BacklogReporter;
  private readonly capacity = () =>
    capacityPerSecond(this.rowLimit.value, this.settings.maxRate, this.settings.timePeriod);
  private readonly mutex = new Mutex();
  private readonly failures: ReadFailures;
  /** After a failed turn, the next waits until then (a broken read must not become a hot loop). */
  private pausedUntil = 0;
  private readonly stopping = new StopSignal();
  private timer: unknown;
  /** When the rate limit, as the last tick asked it, lets the next request start. */
  private rateOpensAt = 0;
  private pendingSince = 0;
  /** Bytes of the events this forwarder queued and has not settled: a batch full by bytes goes at once. */
  private pendingBytes = 0;
  private accepted = 0;
  private settled = 0;
  private stopped: Promise<void> | undefined;
  /** Whether this process was the spool's publisher when it stopped (for the closing log line). */
  private publishedAtStop = true;

  constructor(parts: ForwarderParts) {
    this.settings = parts.settings;
    this.sink = parts.sink;
    this.queue = parts.queue;
    this.rateLimit = parts.rateLimit;
    this.observer = combineObservers([this.counters, ...(parts.observers ?? [])]);
    this.overflow = new OverflowReporter(this.settings.logger, this.sink.description);
    this.rowLimit = new RowLimit(this.settings.batchLimit, this.settings.logger, this.sink.description);
    this.requestEventShare = parts.requestEventShare ?? 1;
    const bound = queueBound(this.settings);
    this.requestBound = {
      events: Math.floor(bound.events * this.requestEventShare),
      bytes: Math.floor(bound.bytes * this.requestEventShare),
    };
    this.backlog = new BacklogReporter(
      this.settings.logger,
      this.sink.description,
      queueBound(this.settings),
      this.capacity,
      (level, waiting, bound) => this.observer.onBacklog?.(level, waiting, bound),
    );
    this.sender = new BatchSender({
      settings: this.settings,
      sink: this.sink,
      rateLimit: this.rateLimit,
      stopping: this.stopping,
      observer: this.observer,
      mayAttempt: () => this.queue.publishing,
      waiting: () => this.queue.size,
    });
    this.delivery = new BatchDelivery({
      settings: this.settings,
      sink: this.sink,
      sender: this.sender,
      rowLimit: this.rowLimit,
      observer: this.observer,
      deadLetters: parts.deadLetters,
      check: parts.check,
    });
    this.failures = new ReadFailures(this.settings.logger, this.settings.backoffBaseMs, this.settings.backoffMaxMs);
    this.queue.onAvailable(() => this.schedule());
  }

  /**
   * Queues an event; throws EventQueueFullError (counted, logged once per episode) when full. A
   * request event (`requestEvent`) is refused once the queue holds its share of the bound, so the
   * rest stays for the events handlers put: traffic alone never makes a handler's put() throw.
   */
  enqueue(event: QueuedEvent, requestEvent = false): void {
    try {
      if (
        requestEvent &&
        (this.queue.size >= this.requestBound.events || this.pendingBytes + event.bytes > this.requestBound.bytes)
      )
        throw new RequestEventShareFullError(this.requestEventShare);
      this.queue.push(event);
    } catch (error) {
      if (error instanceof EventQueueFullError) {
        this.overflow.refused(error.message, error.until);
        this.observer.onOverflow(error.message);
      }
      throw error;
    }
    this.overflow.accepted();
    this.accepted++;
    this.pendingBytes += event.bytes;
    this.backlog.observe(this.queue.size, this.pendingBytes);
    if (this.queue.size === 1) this.pendingSince = Date.now();
    const filledByBytes =
      this.pendingBytes >= this.settings.maxBatchBytes && this.pendingBytes - event.bytes < this.settings.maxBatchBytes;
    if (this.queue.size === this.rowLimit.value || filledByBytes) this.reschedule();
    else this.schedule();
  }

  stats(): ForwarderStats {
    const { sent, retried, dropped, overflowed, requests, failedRequests } = this.counters;
    const capacity = { capacityPerSecond: this.capacity() };
    const failure = this.failures.count > 0 ? { failure: this.failures.reason } : {};
    return {
      queued: this.queue.size,
      sent,
      retried,
      dropped,
      overflowed,
      requests,
      failedRequests,
      ...capacity,
      failedTurns: this.failures.count,
      ...failure,
      ...this.queue.stats(),
      ...(this.counters.holding === undefined ? {} : { holding: this.counters.holding.answer }),
    };
  }

  /**
   * Delivers every event accepted before the call, without waiting for the rate limit. `alone`:
   * never wait on a promise that another caller made. On Workers each request runs its flush in
   * its own waitUntil, and a promise of another request's (the lock's queue) may never resolve
   * here: while another batch is in flight, look again on a timer of this request's own.
   */
  async flush(alone = false): Promise<void> {
    const target = this.accepted;
    this.sender.setUrgent(true);
    try {
      await this.queue.commit();
      while (this.flushing(target)) {
        if (alone && this.mutex.isLocked()) {
          await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
          continue;
        }
        // Asked again inside the lock: the batch in flight at the call may have settled the rest.
        // A batch that could not be finished (a failed read, dead letters that could not be kept) ends the flush.
        if (!(await this.mutex.runExclusive(async () => this.flushing(target) && this.deliverNext()))) break;
      }
    } finally {
      this.sender.setUrgent(false);
      this.reschedule();
    }
  }

  /** Whether flush() has more to do: events accepted before it (up to `target`) that this process may send. */
  private flushing(target: number): boolean {
    return this.settled < target && this.queue.size > 0 && this.queue.publishing && !this.stopping.aborted;
  }

  /**
   * Drains within `timeoutMs` (a durable queue: only lets the batch in flight finish), then stops
   * sending for good and drops what a memory queue still holds. Safe to call more than once.
   */
  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.drainAndStop(timeoutMs);
    return this.stopped;
  }

  /** After stop() and the queue's close(): counts what the queue could not keep as dropped, and reports the end. */
  closeResult(unkept: Unkept | undefined): CloseResult {
    if (unkept !== undefined && unkept.events.length > 0) this.delivery.drop(unkept.events, unkept.reason);
    const left = this.queue.size;
    const result: CloseResult = { delivered: this.counters.sent, undelivered: this.counters.dropped + left };
    if (!this.queue.durable) return result;
    // A process that only writes to a spool always leaves its events there: nothing to report.
    if (left > 0 && this.publishedAtStop) {
      this.settings.logger.warn(
        `closed with ${left} events not yet delivered to ${this.sink.description}; they stay queued for the next start`,
      );
    }
    return { ...result, spooled: left };
  }

  /** What close() can tell when the queue did not close in time: nothing settled since counts as undelivered. */
  resultNow(): CloseResult {
    const left = this.queue.size;
    const result: CloseResult = { delivered: this.counters.sent, undelivered: this.counters.dropped + left };
    return this.queue.durable ? { ...result, spooled: left } : result;
  }

  private async drainAndStop(timeoutMs: number): Promise<void> {
    // Not unref'd: whoever awaits close() expects it to settle, so the deadline keeps the process
    // alive until then (an unref'd one let `await events.close()` end a script with exit code 13).
    const deadline = setTimeout(() => this.stopping.abort(), timeoutMs);
    try {
      // A durable queue keeps what is left for the next publisher, at the rate limit: stop()
      // only lets the batch in flight finish (within the deadline) instead of draining.
      if (this.queue.durable) await this.mutex.waitForUnlock();
      else await this.flush();
    } finally {
      clearTimeout(deadline);
      this.stopping.abort();
      this.cancelTimer();
    }
    this.publishedAtStop = this.queue.publishing;
    if (!this.queue.durable) await this.mutex.runExclusive(() => this.dropLeftovers());
  }

  /** At the deadline, memory can only drop what is left. */
  private async dropLeftovers(): Promise<void> {
    const left = this.queue.size;
    if (left === 0) return;
    const rest = await this.queue.take(left, Number.POSITIVE_INFINITY);
    await this.queue.settle(rest);
    this.delivery.drop(rest, STOPPED_REASON);
  }

  private reschedule(): void {
    this.cancelTimer();
    this.schedule();
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    cancelLater(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (
      this.timer !== undefined ||
      this.mutex.isLocked() ||
      this.queue.size === 0 ||
      !this.queue.publishing ||
      this.stopping.aborted
    )
      return;
    const now = Date.now();
    // The rate limit's last answer is a lower bound of its next (a window only frees with time):
    // waiting it out here spares put() a tick that would only find the window still closed.
    const delay = Math.max(
      this.pausedUntil - now,
      this.sender.urgent ? 0 : Math.max(this.rateOpensAt - now, this.fillDelay(now)),
    );
    // setTimeout(0) waits at least a millisecond: a delivery loop with no rate limit would spend
    // most of its time there, so a batch that may go now goes on the next turn of the loop.
    // tick() catches what it awaits: its promise never rejects.
    this.timer = later(this.onTimer, delay);
  }

  /** A batch that is not full waits up to batchWaitMs, from its oldest event or the previous batch's departure. */
  private fillDelay(now: number): number {
    if (
      this.settings.batchWaitMs === 0 ||
      this.queue.size >= this.rowLimit.value ||
      this.pendingBytes >= this.settings.maxBatchBytes
    )
      return 0;
    return Math.max(0, this.pendingSince + this.settings.batchWaitMs - now);
  }

  private readonly onTimer = (): void => void this.tick();

  private readonly tick = async (): Promise<void> => {
    this.timer = undefined;
    try {
      await this.mutex.runExclusive(async () => {
        // The batch is taken only once it may go, so events that come meanwhile still join it.
        const wait = this.sender.urgent ? 0 : await this.rateLimit.delay();
        this.rateOpensAt = Date.now() + wait;
        if (wait <= 0) await this.deliverNext();
      });
    } catch (error) {
      // Background work never throws into the app (a logger that throws, a bug): it is seen, and backs off.
      this.turnFailed(`failed unexpectedly: ${(error as Error).stack ?? String(error)}`, false);
    }
    this.schedule();
  };

  /** A turn failed: the next waits (backoff); after repeated failed reads, a spool's lease goes to another process. */
  private turnFailed(reason: string, read: boolean): void {
    const { waitMs, giveUpLease } = this.failures.failed(reason, read);
    this.pausedUntil = Date.now() + waitMs;
    this.observer.onTurnFailed?.(this.failures.count, reason);
    if (giveUpLease) this.queue.standDown?.().catch(() => {});
  }

  /** Takes and delivers one batch; true when a whole batch was delivered or dropped. */
  private async deliverNext(): Promise<boolean> {
    let taken: QueuedEvent[];
    try {
      taken = await this.queue.take(this.rowLimit.value, this.settings.maxBatchBytes);
    } catch (error) {
      this.turnFailed(`reading the queue failed: ${(error as Error).message ?? String(error)}`, true);
      return false;
    }
    const batch = this.delivery.fit(taken);
    if (batch.length === 0) return false;
    let finished = await this.delivery.deliver(batch);
    if (finished < batch.length && !this.queue.durable && this.stopping.aborted) {
      this.delivery.drop(batch.slice(finished), STOPPED_REASON);
      finished = batch.length;
    }
    // Only what was delivered or dropped leaves the queue: the part of a batch that close() cut
    // short stays in a durable queue, to be sent again on the next start.
    const done = finished === batch.length ? batch : batch.slice(0, finished);
    if (finished > 0) await this.queue.settle(done);
    this.settled += finished;
    this.pendingBytes = Math.max(0, this.pendingBytes - done.reduce((sum, event) => sum + event.bytes, 0));
    this.backlog.observe(this.queue.size, this.pendingBytes);
    // What is left starts the next batch now, as baseplate's publisher starts a new batch after
    // sending one: a full batch must not drag a lone leftover event out after it.
    this.pendingSince = this.queue.size > 0 ? Date.now() : 0;
    if (finished === batch.length) {
      this.pausedUntil = 0;
      this.failures.succeeded();
      return true;
    }
    // Not stopped, still publishing, yet unfinished: dropped events the dead letters could not keep.
    if (!this.stopping.aborted && this.queue.publishing)
      this.turnFailed(`${batch.length - finished} event(s) to drop could not be kept as dead letters`, false);
    return false;
  }
}
