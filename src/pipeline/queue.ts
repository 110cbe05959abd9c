import { EventQueueFullError } from "../core/errors.js";

/** One event as it waits: its serialized text and that text's size in bytes (UTF-8). */
export interface QueuedEvent {
  readonly json: string;
  readonly bytes: number;
}

/** What a queue adds to stats(); only a spool has these. */
export interface QueueStats {
  /** Events this process committed to the spool. */
  spooled?: number;
  /** Events put but not yet committed to the spool (a kill -9 now would lose them). */
  buffered?: number;
  /** This process holds the spool's publisher lease. */
  publisher?: boolean;
}

/**
 * Where accepted events wait for the forwarder. Events leave in the order they came; the
 * forwarder takes a batch from the front and settles it (delivered or dropped) before it takes
 * the next, so settle() always removes the front of the queue.
 */
export interface EventQueue {
  readonly size: number;
  /**
   * Events left at close() outlive the process (a spool): close() does not drain them (it lets
   * the batch in flight finish within the deadline), and leaves them, and an in-flight batch cut
   * short by close(), where they are, instead of dropping them.
   */
  readonly durable?: boolean;
  push(event: QueuedEvent): void;
  /** The oldest events, at most `maxCount` of them and `maxBytes` in all (at least one). */
  take(maxCount: number, maxBytes: number): QueuedEvent[];
  /** Forgets a batch that take() returned: it was delivered or dropped. */
  settle(batch: QueuedEvent[]): void;
  /** False while this process may not take events (another process holds the spool's publisher lease). */
  readonly ready?: boolean;
  /** Makes every event pushed so far durable (a spool commits its group now). */
  commit?(): void;
  /** Calls `wake` when events become available that push() did not announce (other processes). */
  onAvailable?(wake: () => void): void;
  stats?(): QueueStats;
  /** Returns the events it could not keep (a spool that cannot be written), with why: they are lost. */
  close?(): Unkept | void;
}

/** Accepted events a queue could neither deliver nor keep when it closed. */
export interface Unkept {
  events: QueuedEvent[];
  reason: string;
}

/** The default queue: an array used as a deque, bounded by count and by bytes. */
export class MemoryQueue implements EventQueue {
  private items: QueuedEvent[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxSize: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(event: QueuedEvent): void {
    if (this.size >= this.maxSize) throw new EventQueueFullError(this.maxSize);
    if (this.bytes + event.bytes > this.maxBytes) throw new EventQueueFullError(this.maxSize, this.maxBytes);
    this.items.push(event);
    this.bytes += event.bytes;
  }

  take(maxCount: number, maxBytes: number): QueuedEvent[] {
    const end = Math.min(this.items.length, this.head + maxCount);
    let bytes = 0;
    let i = this.head;
    for (; i < end; i++) {
      bytes += this.items[i]!.bytes;
      if (bytes > maxBytes && i > this.head) break;
    }
    return this.items.slice(this.head, i);
  }

  settle(batch: QueuedEvent[]): void {
    this.head += batch.length;
    for (const event of batch) this.bytes -= event.bytes;
    // Compact now and then so the array does not grow forever, without shifting on every batch.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
