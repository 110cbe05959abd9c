import type { SqliteDatabase } from "../../core/sqlite-open.js";
import { transaction } from "../../core/sqlite-driver.js";
import { addOperateTables } from "./operate-schema.js";

/** Marks a SQLite file as a spool ("EFSP"), so a spool path never writes into someone's database. */
const SPOOL_APPLICATION_ID = 0x45465350;

/** Throws when the file is a SQLite database of something else. */
export function checkIsSpool(db: SqliteDatabase): void {
  // One statement, one snapshot: read apart, a process creating the spool at that moment could
  // commit between the two, and its tables would show without its mark (test/core/sqlite-open-race).
  const { id, tables } = db
    .prepare(
      "SELECT (SELECT application_id FROM pragma_application_id) AS id, (SELECT count(*) FROM sqlite_master) AS tables",
    )
    .get() as { id: number; tables: number };
  if (id === SPOOL_APPLICATION_ID) return;
  if (id !== 0 || tables > 0)
    throw new Error("the file is a SQLite database but not an events-forward spool; give the spool a file of its own");
}

/** Creates the tables once; IMMEDIATE, so processes opening a new spool together do not race. */
export function createSpool(db: SqliteDatabase): void {
  transaction(
    db,
    () => {
      db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL, bytes INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT, expires INTEGER NOT NULL, sends TEXT NOT NULL);
      INSERT OR IGNORE INTO lease (id, holder, expires, sends) VALUES (1, NULL, 0, '[]');
    `);
      addOperateTables(db);
      db.exec(`PRAGMA application_id = ${SPOOL_APPLICATION_ID}`);
    },
    "immediate",
  );
}
