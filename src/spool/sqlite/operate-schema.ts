import type { SqliteDatabase } from "../../core/sqlite-open.js";

/**
 * What a spool file holds for the operator beside the outbox: the dead letters, and in the lease
 * row since when the holder holds it, the last delivery and what the store answers while the
 * publisher holds a batch. Added to files made by older versions
 * (CREATE ... IF NOT EXISTS, ADD COLUMN when missing), so every spool file opens.
 */
export function addOperateTables(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS dead_letters (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      json TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      reason TEXT NOT NULL,
      status INTEGER,
      answer TEXT NOT NULL,
      at INTEGER NOT NULL,
      attempts INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason, seq);
  `);
  const columns = new Set(
    (db.prepare("SELECT name FROM pragma_table_info('lease')").all() as { name: string }[]).map((c) => c.name),
  );
  for (const [name, type] of [
    ["since", "INTEGER"],
    ["last_at", "INTEGER"],
    ["last_outcome", "TEXT"],
    // While the publisher holds a batch the store does not take (pipeline/observer.ts, Holding).
    ["holding", "TEXT"],
    ["holding_since", "INTEGER"],
  ] as const) {
    if (!columns.has(name)) db.exec(`ALTER TABLE lease ADD COLUMN ${name} ${type}`);
  }
}
