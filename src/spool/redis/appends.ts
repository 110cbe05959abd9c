import type { QueuedEvent } from "../../pipeline/queue.js";
import { batchEnd } from "../../pipeline/batch-cut.js";
import { RedisRefusal, type RedisConnection } from "./connection.js";
import type { OutboxHistory } from "./history.js";
import type { SpoolKeys } from "./scripts.js";

/**
 * Most events one append carries (one round trip). While an append is on its way, the next
 * group grows: under a burst, appends grow too, so Redis keeps up with a fast app.
 */
const MAX_APPEND = 5_000;
/** Most bytes one append carries (at least one event): a group of large events must still be answered well within the command timeout. */
const MAX_APPEND_BYTES = 4 * 1024 * 1024;
/** How long Redis remembers a writer's last group, so an append sent again is not applied twice. */
const WRITER_TTL_MS = 86_400_000;

/** A group on its way to Redis: sent again with the same id until an answer about it arrives. */
interface SendingGroup {
  id: string;
  events: QueuedEvent[];
  /** An attempt got no answer: the group may be in Redis already. */
  unanswered: boolean;
}

/** What Redis answered about one append. */
export interface Appended {
  /** Events of the group it took (fewer than sent when the fleet's spool is full). */
  appended: number;
  /** Whether the whole group went in. */
  all: boolean;
  /** Events in Redis this process has not settled, as of this answer. */
  stored: number;
}

/**
 * The events put and not yet in Redis, and their appends (APPEND in scripts.ts): in groups of at
 * most MAX_APPEND events and MAX_APPEND_BYTES, each with an id the writer key remembers, so that a
 * group sent again after a lost answer goes in once. A failed append (refused, or unanswered)
 * halves the next groups: a large one may never fit in Redis's free memory, or be answered in time.
 */
export class RedisAppends {
  /** Put, not yet sent to Redis. */
  private group: QueuedEvent[] = [];
  /** Sent (or to be sent again, with the same id) and not yet confirmed. */
  private sending: SendingGroup | undefined;
  private groupSeq = 0;
  private appendLimit = MAX_APPEND;
  private appendBytesLimit = MAX_APPEND_BYTES;

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: SpoolKeys,
    private readonly writerKey: string,
    private readonly history: OutboxHistory,
    private readonly maxEvents: number,
  ) {}

  /** Events put and not yet confirmed in Redis. */
  get buffered(): number {
    return this.group.length + (this.sending?.events.length ?? 0);
  }

  /** Events put and not yet sent. */
  get waiting(): number {
    return this.group.length;
  }

  add(event: QueuedEvent): void {
    this.group.push(event);
  }

  /** Sends the next group (or the unconfirmed one again); throws what Redis or the connection threw. */
  async appendNext(): Promise<Appended> {
    this.sending ??= {
      id: String(++this.groupSeq),
      events: this.group.splice(0, this.appendCount()),
      unanswered: false,
    };
    const sending = this.sending;
    const { id, events } = sending;
    let reply: unknown[];
    try {
      reply = (await this.connection.run(
        "append",
        [this.keys.events, this.writerKey, this.keys.base, this.keys.epoch],
        [this.maxEvents, id, WRITER_TTL_MS, ...this.history.args(), ...events.map((e) => e.json)],
      )) as unknown[];
    } catch (error) {
      // Refused, or unanswered (too large to be answered in time, perhaps): the next groups are
      // smaller, in events and in bytes.
      this.appendLimit = Math.max(1, this.appendLimit >> 1);
      this.appendBytesLimit = Math.max(1, this.appendBytesLimit >> 1);
      if (!(error instanceof RedisRefusal)) sending.unanswered = true;
      else if (!sending.unanswered) {
        // Refused before it wrote anything (Redis checks memory before the script's first
        // write), and no earlier attempt may have been applied: the events may go again in a
        // smaller group. Once an attempt went unanswered, only the same group (same id) may go
        // again until Redis answers about it: a refusal of the retry says nothing of the first.
        this.group.unshift(...events);
        this.sending = undefined;
      }
      throw error;
    }
    const appended = Number(reply[0]);
    const stored = this.history.observe(String(reply[3]), Number(reply[2]), Number(reply[1]));
    this.appendLimit = Math.min(MAX_APPEND, this.appendLimit * 2);
    this.appendBytesLimit = Math.min(MAX_APPEND_BYTES, this.appendBytesLimit * 2);
    this.sending = undefined;
    // The fleet's spool is full: the rest waits in memory (push() refuses more) until room is made.
    if (appended < events.length) this.group.unshift(...events.slice(appended));
    return { appended, all: appended === events.length, stored };
  }

  /** At close: what is left, split into events whose append got no answer (they may be in Redis) and events that never reached it. */
  takeLeft(): { unknown: QueuedEvent[]; never: QueuedEvent[] } {
    const unknown = this.sending?.unanswered ? this.sending.events : [];
    const never = [...(this.sending?.unanswered ? [] : (this.sending?.events ?? [])), ...this.group];
    this.sending = undefined;
    this.group = [];
    return { unknown, never };
  }

  /** How many of the group's events the next append carries: within appendLimit and appendBytesLimit, at least one. */
  private appendCount(): number {
    return batchEnd(this.group, 0, Math.min(this.group.length, this.appendLimit), this.appendBytesLimit);
  }
}
