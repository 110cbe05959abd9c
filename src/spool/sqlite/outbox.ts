import type { QueuedEvent } from "../../pipeline/queue.js";
import type { ResolvedSpoolOptions } from "../../config/spool-options.js";
import { openSqlite, type SqliteDatabase } from "../../core/sqlite-open.js";
import { transaction } from "../../core/sqlite-driver.js";
import type { SpoolEvent } from "../spool-event.js";
import { checkIsSpool, createSpool } from "./schema.js";

/**
 * Checkpoint the write-ahead log at 100 pages (~400 KB), not SQLite's 1000 (~4 MB): on a small
 * disk a 4 MB log fills it, and then no checkpoint can run (it needs room to grow the database),
 * so the spool stays stuck (test/faults/spool-small-disk: a 2 MB disk; 250 pages still filled it).
 * Group commit's put() cost does not change; with groupCommitMs 0 the put that checkpoints is slower.
 */
const WAL_AUTOCHECKPOINT_PAGES = 100;

/**
 * The spool file's outbox table (schema.ts) and the statements the queue (spool.ts) runs on it:
 * a group's insert in one transaction, the front read within a byte bound, its bounds, and the
 * range delete of what was settled.
 */
export class Outbox {
  readonly db: SqliteDatabase;
  private readonly insert;
  private readonly frontRows;
  private readonly boundRows;
  private readonly deleteRows;

  constructor(options: ResolvedSpoolOptions, allowSymlink: boolean | undefined) {
    this.db = openSqlite("spool", options.path, {
      allowSymlink,
      synchronous: options.synchronous,
      check: checkIsSpool,
      init: createSpool,
    });
    this.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.insert = this.db.prepare<[string, number]>("INSERT INTO outbox (json, bytes) VALUES (?, ?)");
    // Cut by bytes in SQL, from the stored size column: only the rows of the batch are read into
    // memory (10,000 rows of up to 100 KB each would be a gigabyte), and always at least one.
    this.frontRows = this.db.prepare<[{ after: number; count: number; maxBytes: number }], SpoolEvent>(
      `SELECT seq, json, bytes FROM outbox WHERE seq > @after AND seq <= coalesce(
         (SELECT max(seq) FROM (SELECT seq, sum(bytes) OVER (ORDER BY seq) AS total
            FROM outbox WHERE seq > @after ORDER BY seq LIMIT @count) WHERE total <= @maxBytes),
         (SELECT min(seq) FROM outbox WHERE seq > @after))
       ORDER BY seq`,
    );
    // Two subqueries: SQLite answers a lone min() or max() from the index, min and max together by a scan.
    this.boundRows = this.db.prepare<[], { first: number | null; last: number | null }>(
      "SELECT (SELECT min(seq) FROM outbox) AS first, (SELECT max(seq) FROM outbox) AS last",
    );
    // Batches are settled from the front, in order: one range delete removes a batch.
    this.deleteRows = this.db.prepare<[number]>("DELETE FROM outbox WHERE seq <= ?");
  }

  /** The events, in one transaction. */
  append(events: readonly QueuedEvent[]): void {
    transaction(this.db, () => {
      for (const event of events) this.insert.run(event.json, event.bytes);
    });
  }

  /** Up to `count` rows after sequence number `after`, within `maxBytes` in all (at least one). */
  front(after: number, count: number, maxBytes: number): SpoolEvent[] {
    return this.frontRows.all({ after, count, maxBytes });
  }

  /** The first and last sequence numbers in the outbox (null when it is empty). */
  bounds(): { first: number | null; last: number | null } {
    return this.boundRows.get()!;
  }

  /** Removes the rows up to sequence number `seq`. */
  deleteThrough(seq: number): void {
    this.deleteRows.run(seq);
  }
}
