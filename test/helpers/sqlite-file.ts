// Tests read and write SQLite files through the package's own driver interface, so that the suite
// runs on whichever driver the runtime has: better-sqlite3 on Node 20, node:sqlite on Node 22 and
// 24 in CI (EVENTS_FORWARD_SQLITE_DRIVER), with no native build for those lines.
import { loadSqliteDriver } from "../../src/core/sqlite-choice.js";
import type { SqliteConnection } from "../../src/core/sqlite-driver.js";

/** `new Database(path)`, as better-sqlite3's: an open file; `readonly` refuses writes. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface Database extends SqliteConnection {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Database {
  constructor(path: string, options: { readonly?: boolean } = {}) {
    const db = loadSqliteDriver("test").open(path, 5_000);
    if (options.readonly === true) db.exec("PRAGMA query_only = ON");
    return db as Database;
  }
}

export default Database;
