/**
 * The queue contract: where accepted events wait for the forwarder. The memory queue and every
 * spool (SQLite, Redis) implement all of it, so the forwarder never asks what kind of queue it
 * has. Events leave in the order they came: the forwarder takes a batch from the front and
 * settles it (delivered or dropped) before it takes the next, so settle() always removes the
 * front. push() is synchronous and cheap (it runs in put()); everything that may wait on a disk
 * or a server is asynchronous.
 */

/** One event as it waits: its serialized text and that text's size in bytes (UTF-8). */
export interface QueuedEvent {
  readonly json: string;
  readonly bytes: number;
  /**
   * Writes the text's `bytes` UTF-8 bytes at `at`, returning where they end, without making the
   * text where it can (a Datasette row put with flat properties). A batch body that finds it
   * calls it instead of reading `json`; a queue may store events without it (a spool stores text).
   */
  writeTo?(into: Buffer, at: number): number;
}

/** What a queue adds to stats(). */
export interface QueueStats {
  /** Events this process committed to the spool. */
  spooled?: number;
  /** Events put but not yet committed to the spool (a kill -9 now would lose them). */
  buffered?: number;
  /** This process holds the spool's publisher lease. */
  publisher?: boolean;
}

/** Accepted events a queue could neither deliver nor keep when it closed: they are lost. */
export interface Unkept {
  events: QueuedEvent[];
  reason: string;
}

export interface EventQueue {
  /**
   * True when what is left at close() outlives the process (a spool): close() then does not
   * drain (it lets the batch in flight finish within the deadline), and the part of a batch that
   * close() cut short stays queued for the next publisher. False (memory): close() drains, and
   * drops what is left at the deadline.
   */
  readonly durable: boolean;
  /** Events waiting, as this process last saw them (its own buffered ones included). */
  readonly size: number;
  /** Whether this process may take events now: it holds the spool's publisher lease (memory: always). */
  readonly publishing: boolean;
  /** Buffers the event, or throws EventQueueFullError (a subclass names a spool's trouble). Never waits. */
  push(event: QueuedEvent): void;
  /** The oldest events, at most `maxCount` and `maxBytes` in all (at least one); [] when none or not publishing. */
  take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]>;
  /** Removes a batch take() returned, the front of the queue: it was delivered or dropped. */
  settle(batch: readonly QueuedEvent[]): Promise<void>;
  /** Makes every event pushed so far durable (a spool commits its group now). */
  commit(): Promise<void>;
  /** Calls `wake` when events become available that push() did not announce (other processes' events, a lease just taken). */
  onAvailable(wake: () => void): void;
  stats(): QueueStats;
  /**
   * Reading failed again and again here (a corrupt file, a disk error): gives the publisher lease
   * up and leaves it to the other processes for a lease's length, so one that can read takes over.
   * A queue without a lease has none.
   */
  standDown?(): Promise<void>;
  /** Commits what is buffered, gives the lease up, closes; resolves with the events it could not keep. Safe to call twice. */
  close(): Promise<Unkept | undefined>;
}
