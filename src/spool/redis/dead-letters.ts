import type { QueuedEvent } from "../../pipeline/queue.js";
import type { DeadLetter, DeadLetterFilter, DeadLetterStore, DropInfo, ReasonCount } from "../dead-letters.js";
import type { RedisConnection } from "./connection.js";
import { deadLetterKeys, type DeadLetterKeys } from "./dead-letter-scripts.js";
import { spoolKeys } from "./scripts.js";
import type { RedisSpoolQueue } from "./spool.js";

/** Dead letters read per round trip when listing, and removed per script when replaying or purging. */
const PAGE = 1_000;

/**
 * The dead letters of a Redis spool (dead-letter-scripts.ts), for the forwarder and the CLI. The
 * forwarder's drops go through the queue, which moves them out of the outbox in one script that
 * also removes them, before keep() resolves; the CLI lists, counts, replays and purges them.
 */
export class RedisDeadLetters implements DeadLetterStore {
  private readonly keys: DeadLetterKeys;
  private readonly events: string;

  constructor(
    private readonly connection: RedisConnection,
    key: string,
    /** The queue that keeps the forwarder's drops; none for the CLI. */
    private readonly queue?: RedisSpoolQueue,
    /** Whether close() closes the connection (the CLI's own), or leaves it to the queue. */
    private readonly ownsConnection = queue === undefined,
  ) {
    this.keys = deadLetterKeys(key);
    this.events = spoolKeys(key).events;
  }

  /** False when Redis could not move them (the forwarder then keeps the batch queued and tries again). */
  keep(events: readonly QueuedEvent[], info: DropInfo): Promise<boolean> {
    return this.queue?.keepDead(events, info) ?? Promise.resolve(true);
  }

  async list(filter: DeadLetterFilter = {}, limit = 1_000_000): Promise<DeadLetter[]> {
    const found: DeadLetter[] = [];
    for (let after = 0; found.length < limit;) {
      const page = (await this.connection.run("listDead", [this.keys.dead, this.keys.ids], [after, PAGE])) as string[];
      for (let i = 0; i < page.length && found.length < limit; i += 2) {
        const letter = parse(page[i]!, page[i + 1]!);
        if (letter !== undefined && matches(letter, filter)) found.push(letter);
      }
      if (page.length < 2 * PAGE) break;
      after = Number(page.at(-2));
    }
    return found;
  }

  async byReason(): Promise<ReasonCount[]> {
    const flat = (await this.connection.run(
      "countDead",
      [this.keys.dead, this.keys.reasons],
      [this.keys.reasonPrefix],
    )) as unknown[];
    const counts: ReasonCount[] = [];
    for (let i = 0; i + 4 < flat.length; i += 5)
      counts.push({
        reason: String(flat[i]),
        count: Number(flat[i + 1]),
        oldest: Number(flat[i + 2]),
        newest: Number(flat[i + 3]),
        example: String(flat[i + 4]),
      });
    return counts.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  }

  /** Each chunk moves back into the outbox in one script: an event is in the dead letters or in the outbox, never both. */
  replay(filter?: DeadLetterFilter): Promise<number> {
    return this.remove("replay", filter);
  }

  purge(filter?: DeadLetterFilter): Promise<number> {
    return this.remove("purge", filter);
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }

  private async remove(action: "replay" | "purge", filter?: DeadLetterFilter): Promise<number> {
    const ids = (await this.list(filter)).map((letter) => letter.seq);
    let removed = 0;
    for (let i = 0; i < ids.length; i += PAGE)
      removed += Number(
        await this.connection.run(
          "removeDead",
          [this.events, this.keys.dead, this.keys.ids, this.keys.reasons],
          [action, this.keys.reasonPrefix, ...ids.slice(i, i + PAGE)],
        ),
      );
    return removed;
  }
}

function parse(id: string, record: string): DeadLetter | undefined {
  try {
    const kept = JSON.parse(record) as Partial<DeadLetter>;
    return {
      seq: Number(id),
      json: String(kept.json),
      reason: String(kept.reason),
      status: typeof kept.status === "number" ? kept.status : null,
      answer: String(kept.answer ?? ""),
      at: Number(kept.at),
      attempts: Number(kept.attempts ?? 1),
    };
  } catch {
    return undefined; // gone between the two reads of a page (replayed, purged): skip it
  }
}

/** The filter of the SQLite store, the same words: the reason or the answer contains the text; kept since a time. */
function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && !letter.reason.includes(filter.reason) && !letter.answer.includes(filter.reason))
    return false;
  return filter.since === undefined || letter.at >= filter.since;
}
