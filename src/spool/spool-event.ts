import type { QueuedEvent } from "../pipeline/queue.js";

/** An event a spool handed out: its text, and its place in the spool, which settle() removes through. */
export interface SpoolEvent extends QueuedEvent {
  readonly seq: number;
}
