import { Mutex } from "async-mutex";
import { builtin } from "../../core/builtin.js";
import type { Logger } from "../../core/log.js";
import type { QueuedEvent } from "../../pipeline/queue.js";
import { reasonKind, type DropInfo } from "../dead-letters.js";
import type { SpoolEvent } from "../spool-event.js";
import type { RedisConnection } from "./connection.js";
import type { DeadLetterKeys } from "./dead-letter-scripts.js";
import type { SpoolKeys } from "./scripts.js";

/** An event read from the Redis outbox: its sequence number, in the history (epoch) it belongs to. */
export interface RedisSpoolEvent extends SpoolEvent {
  readonly epoch: string;
}

/** A batch the forwarder gave up on, to move into the dead letters with the acknowledgement that removes it. */
interface PendingDead {
  epoch: string;
  from: number;
  through: number;
  info: DropInfo;
  /** Set once Redis moved it (in this epoch). */
  moved: boolean;
}

/**
 * Where one process stands in the Redis outbox's history (scripts.ts): the epoch it knows, what
 * it settled and what Redis has removed of it, and the dropped batches still to move into the
 * dead letters. When Redis answers from another epoch (it lost data), it starts over from the
 * new base: nothing of the lost history is acknowledged or moved any more.
 */
export class OutboxHistory {
  /** "" until the first answer. */
  epoch = "";
  /** The sequence number of the last event this process settled, and the one Redis removed through. */
  settledThrough = -1;
  ackedThrough = -1;
  /** The highest head (base + length) seen in this epoch: a lower one means Redis lost appends. */
  private seenHead = 0;
  /** Dropped batches, in order, not yet in the dead letters: no acknowledgement passes the first. */
  private deadPending: PendingDead[] = [];
  private evictionReported = false;
  private readonly moves = new Mutex();

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: SpoolKeys,
    private readonly deadKeys: DeadLetterKeys,
    private readonly maxDeadLetters: number,
    private readonly logger: Logger,
    /** The spool as messages name it. */
    private readonly name: string,
  ) {}

  /** What every read, append and acknowledgement says: the epoch known, a new one should there be none, the head seen. */
  args(): [string, string, number] {
    return [this.epoch, builtin("node:crypto").randomUUID(), this.seenHead];
  }

  /**
   * An answer from Redis: the list holds `length` events from sequence number `base`, in `epoch`.
   * Returns how many of them this process has not settled.
   */
  observe(epoch: string, base: number, length: number): number {
    if (epoch !== this.epoch) {
      if (this.epoch !== "")
        this.logger.warn(
          `spool ${this.name}: a new history in Redis (it restarted, failed over, was flushed or lost its last appends): starting over from what it holds now; nothing appended from now on is lost, and what Redis itself lost, if anything, cannot be recovered`,
        );
      this.epoch = epoch;
      // Dropped batches of the lost history went with it.
      this.deadPending = this.deadPending.filter((dead) => dead.epoch === epoch);
      this.settledThrough = base - 1;
      this.ackedThrough = base - 1;
      this.seenHead = 0;
    }
    this.seenHead = Math.max(this.seenHead, base + length);
    return Math.max(0, length - Math.max(0, this.settledThrough + 1 - base));
  }

  /** A batch delivered or dropped; false when it belongs to a history Redis lost (its numbers mean nothing now). */
  settle(last: RedisSpoolEvent): boolean {
    if (last.epoch !== this.epoch) return false;
    this.settledThrough = Math.max(this.settledThrough, last.seq);
    return true;
  }

  /** Settled events Redis has not removed yet. */
  get unacknowledged(): boolean {
    return this.ackedThrough < this.settledThrough;
  }

  /**
   * A batch the forwarder gives up on (settle() comes next, only if this resolves true): moved
   * into the dead letters now. False when the move could not be made (Redis did not answer, or
   * answers from another history, where the events are read again): the batch stays queued.
   * Throws when Redis fails (false, when it was another move of the same batch that failed, the
   * acknowledgement timer's, say). Events that never reached Redis, or of a history already left, have
   * nothing to move: true.
   */
  async keepDead(events: readonly QueuedEvent[], info: DropInfo): Promise<boolean> {
    const first = events[0] as Partial<RedisSpoolEvent> | undefined;
    const last = events.at(-1) as Partial<RedisSpoolEvent> | undefined;
    if (first?.seq === undefined || last?.seq === undefined || first.epoch !== this.epoch) return true;
    const dead: PendingDead = { epoch: this.epoch, from: first.seq, through: last.seq, info, moved: false };
    this.deadPending.push(dead);
    try {
      await this.moveDead();
    } finally {
      // Moved, refused, unanswered or not tried (an earlier batch's move failed): settled here either way.
      this.forget(dead);
    }
    return dead.moved;
  }

  /** How far an acknowledgement may remove: what was settled, but never a dropped batch not yet moved. */
  ackThrough(): number {
    const pending = this.deadPending[0];
    return pending === undefined ? this.settledThrough : Math.min(this.settledThrough, pending.from - 1);
  }

  /** Redis answered an acknowledgement through `through` sent in `epoch`. */
  acked(epoch: string, through: number): void {
    if (epoch === this.epoch) this.ackedThrough = Math.max(this.ackedThrough, through);
  }

  /**
   * Moves the dropped batches into the dead letters, in order; throws when Redis does not answer.
   * The script also removes the outbox's front through the batch: the forwarder gives a batch
   * (or a part of one) up only once everything before it was delivered or kept, settled or not yet.
   */
  moveDead(): Promise<void> {
    // One move at a time (keepDead's own, the acknowledgement timer's, a take's): two moves of the
    // same batch in flight could see the first fail (keepDead: false, the batch stays queued) and
    // the second succeed (the batch gone into the dead letters, never counted as dropped).
    return this.moves.runExclusive(() => this.moveEach());
  }

  private async moveEach(): Promise<void> {
    for (;;) {
      const dead = this.deadPending[0];
      if (dead === undefined) return;
      const { keys, deadKeys } = this;
      let reply: number[];
      try {
        reply = (await this.connection.run(
          "keepDead",
          [keys.events, keys.base, keys.epoch, deadKeys.dead, deadKeys.ids, deadKeys.next, deadKeys.reasons],
          [
            dead.epoch,
            dead.from,
            dead.through,
            reasonKind(dead.info),
            dead.info.status ?? "",
            dead.info.answer.slice(0, 2_000),
            dead.info.attempts ?? 1,
            this.maxDeadLetters,
            deadKeys.reasonPrefix,
          ],
        )) as number[];
      } catch (error) {
        // Its outcome is final here: keepDead answers false, and no later move tries it again.
        this.forget(dead);
        throw error;
      }
      this.forget(dead);
      if (Number(reply[0]) >= 0) {
        dead.moved = true;
        this.acked(dead.epoch, dead.through);
      }
      if (Number(reply[1]) > 0 && !this.evictionReported) {
        this.evictionReported = true;
        this.logger.warn(
          `spool ${this.name} holds more than ${this.maxDeadLetters} dead letters (spool.maxDeadLetters): the oldest are deleted to make room (reported once)`,
        );
      }
    }
  }

  private forget(dead: PendingDead): void {
    this.deadPending = this.deadPending.filter((pending) => pending !== dead);
  }
}
