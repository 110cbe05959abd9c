import type { Logger } from "../../core/log.js";
import { explainSqliteError, openSqlite, type SqliteDatabase } from "../../core/sqlite-open.js";
import { transaction } from "../../core/sqlite-driver.js";
import type { QueuedEvent } from "../../pipeline/queue.js";
import {
  reasonKind,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
  type DropInfo,
  type ReasonCount,
} from "../dead-letters.js";
import { checkIsSpool, createSpool } from "./schema.js";

/** Default of spool.maxDeadLetters: the most dead letters a spool keeps. */
export const DEFAULT_MAX_DEAD_LETTERS = 100_000;

/** The filter as SQL: the reason (kind) or the store's answer contains the text; kept since a time. */
const WHERE =
  "(@reason IS NULL OR instr(reason, @reason) > 0 OR instr(answer, @reason) > 0) AND (@since IS NULL OR at >= @since)";

const params = (filter: DeadLetterFilter = {}) => ({ reason: filter.reason ?? null, since: filter.since ?? null });

/**
 * The dead letters of a SQLite spool: a table in the spool file, next to the outbox (or in a file
 * of its own: option deadLetter). Opened on first use, so processes that never drop an event never
 * open a second connection. Bounded: past `max` rows, the oldest go (counted, logged once).
 */
export class SqliteDeadLetters implements DeadLetterStore {
  private db: SqliteDatabase | undefined;
  private failing = false;
  private evictionReported = false;
  /** Dead letters deleted to stay within the bound, by this process. */
  evicted = 0;

  constructor(
    readonly path: string,
    private readonly max: number,
    private readonly logger: Logger,
    /** The option that named the file, for errors. */
    private readonly option = "spool",
    /** Option allowSymlinks. */
    private readonly allowSymlink = false,
  ) {}

  /** Synchronous inside (better-sqlite3): the events are written, or not, before it first yields. */
  async keep(events: readonly QueuedEvent[], info: DropInfo): Promise<boolean> {
    if (events.length === 0) return true;
    try {
      const db = this.open();
      const reason = reasonKind(info);
      const at = Date.now();
      let evicted = 0;
      transaction(
        db,
        () => {
          const insert = db.prepare(
            "INSERT INTO dead_letters (json, bytes, reason, status, answer, at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)",
          );
          for (const event of events)
            insert.run(event.json, event.bytes, reason, info.status ?? null, info.answer, at, info.attempts ?? 1);
          const { n } = db.prepare("SELECT count(*) AS n FROM dead_letters").get() as { n: number };
          if (n > this.max)
            evicted = db
              .prepare("DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters ORDER BY seq LIMIT ?)")
              .run(n - this.max).changes;
        },
        "immediate",
      );
      if (evicted > 0) this.reportEviction(evicted);
      if (this.failing) this.logger.warn(`dead letters in ${this.path} can be written again`);
      this.failing = false;
      return true;
    } catch (error) {
      // The forwarder keeps the events queued and tries again: say so once per episode.
      if (!this.failing)
        this.logger.error(
          `could not keep ${events.length} dropped event(s) as dead letters in ${this.path}: ${explainSqliteError(error)}; they stay queued and are tried again (reported once until it works again)`,
        );
      this.failing = true;
      return false;
    }
  }

  async list(filter?: DeadLetterFilter, limit = 1_000_000): Promise<DeadLetter[]> {
    return this.open()
      .prepare(
        `SELECT seq, json, reason, status, answer, at, attempts FROM dead_letters WHERE ${WHERE} ORDER BY seq LIMIT @limit`,
      )
      .all({ ...params(filter), limit }) as DeadLetter[];
  }

  async byReason(): Promise<ReasonCount[]> {
    return this.open()
      .prepare(
        "SELECT reason, count(*) AS count, min(at) AS oldest, max(at) AS newest, max(answer) AS example FROM dead_letters GROUP BY reason ORDER BY count DESC, reason",
      )
      .all() as ReasonCount[];
  }

  async replay(filter?: DeadLetterFilter): Promise<number> {
    const db = this.open();
    return transaction(
      db,
      () => {
        // The same text goes back, so the same row ids: a store that has a row already ignores it.
        db.prepare(
          `INSERT INTO outbox (json, bytes) SELECT json, bytes FROM dead_letters WHERE ${WHERE} ORDER BY seq`,
        ).run(params(filter));
        return db.prepare(`DELETE FROM dead_letters WHERE ${WHERE}`).run(params(filter)).changes;
      },
      "immediate",
    );
  }

  async purge(filter?: DeadLetterFilter): Promise<number> {
    return this.open().prepare(`DELETE FROM dead_letters WHERE ${WHERE}`).run(params(filter)).changes;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private open(): SqliteDatabase {
    this.db ??= openSqlite(this.option, this.path, {
      check: checkIsSpool,
      init: createSpool,
      allowSymlink: this.allowSymlink,
    });
    return this.db;
  }

  private reportEviction(count: number): void {
    this.evicted += count;
    if (this.evictionReported) return;
    this.evictionReported = true;
    this.logger.warn(
      `${this.path} holds more than ${this.max} dead letters (spool.maxDeadLetters): the oldest are deleted to make room (reported once)`,
    );
  }
}
