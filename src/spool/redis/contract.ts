// TEMPORARY: the queue contract of /work/tools/queue-contract.ts, until "Reshape, step 2" lands
// it in src/pipeline/queue.ts; then this file goes and the imports point there.
import type { QueuedEvent, QueueStats, Unkept } from "../../pipeline/queue.js";
import type { Logger } from "../../core/log.js";
export type { QueuedEvent, QueueStats, Unkept };

export interface AsyncEventQueue {
  readonly durable: boolean;
  readonly size: number;
  readonly publishing: boolean;
  push(event: QueuedEvent): void;
  take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]>;
  settle(batch: readonly QueuedEvent[]): Promise<void>;
  commit(): Promise<void>;
  onAvailable(wake: () => void): void;
  stats(): QueueStats;
  close(): Promise<Unkept | undefined>;
}

export interface RateLimit {
  delay(): Promise<number>;
  record(): Promise<void>;
}

export interface QueueKind<O> {
  create(options: O, context: { publisher: boolean; limiter: RateLimit; logger: Logger; maxRate: number; periodMs: number }): { queue: AsyncEventQueue; limiter: RateLimit };
}
