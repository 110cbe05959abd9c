import type { QueuedEvent } from "./queue.js";

// The dead-letter seam: where the forwarder puts what it drops (spool/ keeps them).

/** Why a batch was dropped, as the dead letters keep it. */
export interface DropInfo {
  /** The store's answer or the forwarder's reason, secrets already cut out. */
  answer: string;
  /** The store's HTTP status, when it answered one. */
  status?: number;
  /** Requests made for these events before they were given up on. */
  attempts?: number;
}

/** Where the forwarder puts the events it drops (BatchDelivery.drop). */
export interface DeadLetterSink {
  /**
   * Keeps the events; resolves true once they are kept, false when they could not be (the sink
   * logs why): the forwarder then does not give them up, it tries the batch again later. Never rejects.
   */
  keep(events: readonly QueuedEvent[], info: DropInfo): Promise<boolean>;
}
