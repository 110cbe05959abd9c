import type { DeadLetterSink } from "./dead-letters.js";
import type { BatchSender, Outcome } from "./batch-sender.js";
import { sameAnswer } from "./retry.js";
import type { Logger } from "../core/log.js";
import type { ForwarderObserver } from "./observer.js";
import type { QueuedEvent } from "./queue.js";
import type { RowLimit } from "./row-limit.js";
import type { Failure, Sink } from "./sink.js";

/** What the delivery of one batch reads of the forwarder's settings (ForwarderSettings has them). */
export interface DeliverySettings {
  maxBatchBytes: number;
  onDrop?: (events: string[], reason: string) => void;
  logger: Logger;
}

export interface BatchDeliveryParts {
  settings: DeliverySettings;
  sink: Sink;
  sender: BatchSender;
  rowLimit: RowLimit;
  observer: ForwarderObserver;
  deadLetters: DeadLetterSink | undefined;
  /** Why an event's text may not join a body (undefined: it may); events that write their own bytes are not asked. */
  check?: (json: string) => string | undefined;
}

/**
 * What becomes of one batch the forwarder took: sent through the BatchSender; cut to the store's
 * row limit when it names one; halved until bad events stand alone when the store rejects the
 * content; dropped (counted, kept as dead letters, logged, handed to onDrop) when nothing else
 * helps. The forwarder decides when and what to take; this decides how a taken batch ends.
 */
export class BatchDelivery {
  constructor(private readonly parts: BatchDeliveryParts) {}

  /** When the sink frames the events (brackets, commas), keeps the whole body within maxBatchBytes. */
  fit(batch: QueuedEvent[]): QueuedEvent[] {
    if (this.parts.sink.bodyBytes === undefined) return batch;
    let bytes = batch.reduce((sum, event) => sum + event.bytes, 0);
    let count = batch.length;
    while (count > 1 && this.parts.sink.bodyBytes(count, bytes) > this.parts.settings.maxBatchBytes)
      bytes -= batch[--count]!.bytes;
    return count === batch.length ? batch : batch.slice(0, count);
  }

  /**
   * Sends a batch; when the store says it has too many rows, cuts it to the store's limit; when the
   * store rejects its content, or a failure outlasts maxAttempts, halves it until the bad events
   * stand alone. Returns how many events, from the front, were delivered or dropped: all of them,
   * unless close() cut the work short (the caller then drops the rest, or a durable queue keeps it),
   * or events to drop could not be kept as dead letters (they stay queued, to be tried again).
   */
  async deliver(batch: QueuedEvent[], checked = false): Promise<number> {
    if (!checked && this.parts.check !== undefined) {
      const refused = this.refused(batch);
      if (refused !== undefined) return this.deliverAround(batch, refused);
    }
    return this.after(batch, await this.send(batch));
  }

  private send(batch: readonly QueuedEvent[], holdOn?: Failure): Promise<Outcome> {
    let bytes = 0;
    for (const event of batch) bytes += event.bytes;
    return this.parts.sender.send(batch, bytes, holdOn);
  }

  /** What becomes of a batch after its send's outcome. */
  private async after(batch: QueuedEvent[], outcome: Outcome): Promise<number> {
    if (outcome.ok) {
      this.parts.observer.onSent(batch.length);
      return batch.length;
    }
    if ("stopped" in outcome) return 0;
    const chunks = this.parts.rowLimit.cut(batch, outcome);
    if (chunks !== undefined) return this.deliverEach(chunks);
    // The answer may be about some of the events: a rejected row, or a row that makes the store
    // fail each time (a retried failure that used up its attempts, a 5xx).
    const mayBeTheEvents = outcome.splittable || outcome.retry || (outcome.status ?? 0) >= 500;
    if (mayBeTheEvents && batch.length > 1) return this.halve(batch, outcome);
    return (await this.dropIfKept(batch, outcome.reason, outcome.status, outcome.attempts)) ? batch.length : 0;
  }

  /**
   * Sends the halves of a batch the store refused. When both get the very answer the batch got,
   * that answer is about the batch (a proxy's own 400, a table whose primary key differs, a store
   * that fails every request), not its events: halving on would cost 2N - 1 requests and drop
   * everything, so the whole batch is held instead, as for an unreachable store.
   */
  private async halve(batch: QueuedEvent[], parent: Failure): Promise<number> {
    const middle = Math.ceil(batch.length / 2);
    const [first, second] = [batch.slice(0, middle), batch.slice(middle)];
    const firstOutcome = await this.send(first);
    // 413 and 422 speak of the events (their size, their content): halving is the cure, always.
    const mayBeTheBatch = !parent.splittable || parent.status === 400;
    if (firstOutcome.ok || "stopped" in firstOutcome || !mayBeTheBatch || !sameAnswer(firstOutcome, parent)) {
      const done = await this.after(first, firstOutcome);
      return done < first.length ? done : done + (await this.deliver(second, true));
    }
    const secondOutcome = await this.send(second);
    if ("stopped" in secondOutcome) return 0;
    if (!secondOutcome.ok && sameAnswer(secondOutcome, parent)) {
      this.parts.settings.logger.warn(
        `${this.parts.sink.description}: both halves of a batch of ${batch.length} got the same answer as the batch: it is about the batch, not its events; holding it`,
      );
      return this.after(batch, await this.send(batch, parent));
    }
    // Only the first half gets the batch's answer: it holds the events to isolate. The second
    // half's outcome is settled only after the first, so what is settled stays the queue's front.
    const done = await this.after(first, firstOutcome);
    if (done < first.length) return done;
    return done + (await this.after(second, secondOutcome));
  }

  /**
   * Text that came from outside this process's own row code (read back from a spool, or made by a
   * serializer) is checked before it joins a body; undefined when every event passed, else the
   * reason for each event (undefined for those that passed).
   */
  private refused(batch: QueuedEvent[]): (string | undefined)[] | undefined {
    let reasons: (string | undefined)[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      if (event.writeTo !== undefined) continue;
      const reason = this.parts.check!(event.json);
      if (reason === undefined) continue;
      reasons ??= new Array<string | undefined>(batch.length);
      reasons[i] = reason;
    }
    return reasons;
  }

  /** The refused events dropped (dead letters, onDrop) where they stand, the runs between them delivered in order. */
  private async deliverAround(batch: QueuedEvent[], reasons: (string | undefined)[]): Promise<number> {
    let finished = 0;
    let start = 0;
    for (let i = 0; i <= batch.length; i++) {
      if (i < batch.length && reasons[i] === undefined) continue;
      if (i > start) {
        const run = batch.slice(start, i);
        const done = await this.deliver(run, true);
        finished += done;
        if (done < run.length) return finished;
      }
      if (i < batch.length) {
        this.drop([batch[i]!], reasons[i]!);
        finished++;
      }
      start = i + 1;
    }
    return finished;
  }

  /** Delivers the parts in order, as deliver() counts; stops at the first that close() cut short. */
  private async deliverEach(parts: QueuedEvent[][]): Promise<number> {
    let finished = 0;
    for (const part of parts) {
      const done = await this.deliver(part, true);
      finished += done;
      if (done < part.length) break;
    }
    return finished;
  }

  /**
   * Gives the events up only once the dead letters have them: a batch they could not keep (a full
   * disk, a locked or unwritable file) is not given up on, it stays queued and is tried again.
   */
  private async dropIfKept(batch: QueuedEvent[], reason: string, status?: number, attempts?: number): Promise<boolean> {
    const deadLetters = this.parts.deadLetters;
    if (deadLetters !== undefined && !(await deadLetters.keep(batch, { answer: reason, status, attempts })))
      return false;
    this.report(batch, reason, status);
    return true;
  }

  /** Gives the events up whatever happens (close() leaves no later try): counted, kept as dead letters where there are any, logged, handed to onDrop. */
  drop(batch: QueuedEvent[], reason: string, status?: number, attempts?: number): void {
    void this.parts.deadLetters?.keep(batch, { answer: reason, status, attempts });
    this.report(batch, reason, status);
  }

  private report(batch: QueuedEvent[], reason: string, status?: number): void {
    this.parts.observer.onDrop(batch.length, reason, status);
    try {
      this.parts.settings.logger.error(
        `dropped ${batch.length} event(s) for ${this.parts.sink.description}: ${reason}`,
      );
    } catch {
      // A logger that throws must not undo the drop (the batch would be sent and kept again).
    }
    if (this.parts.settings.onDrop === undefined) return;
    try {
      this.parts.settings.onDrop(
        batch.map((event) => event.json),
        reason,
      );
    } catch (error) {
      this.parts.settings.logger.error(`onDrop threw: ${(error as Error).message}`);
    }
  }
}
