import { EventQueueFullError } from "../core/errors.js";
import { batchEnd } from "./batch-cut.js";
import type { EventQueue, QueuedEvent, QueueStats, Unkept } from "./queue.js";

/** The default queue: an array used as a deque, bounded by count and by bytes; gone with the process. */
export class MemoryQueue implements EventQueue {
  readonly durable: boolean = false;
  readonly publishing = true;
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

  async take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]> {
    const end = Math.min(this.items.length, this.head + maxCount);
    return this.items.slice(this.head, batchEnd(this.items, this.head, end, maxBytes));
  }

  async settle(batch: readonly QueuedEvent[]): Promise<void> {
    this.head += batch.length;
    for (const event of batch) this.bytes -= event.bytes;
    // Compact now and then so the array does not grow forever, without shifting on every batch.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  async commit(): Promise<void> {}

  onAvailable(): void {
    // Only push() adds events, and the forwarder hears of those itself.
  }

  stats(): QueueStats {
    return {};
  }

  async close(): Promise<Unkept | undefined> {
    return undefined;
  }
}
