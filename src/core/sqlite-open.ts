import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { OptionError } from "./errors.js";
import { loadSqliteDriver } from "./sqlite-choice.js";
import { sqliteErrorCode, type SqliteConnection } from "./sqlite-driver.js";
import { prepareSqliteFile } from "./sqlite-file.js";

export type SqliteDatabase = SqliteConnection;

/** How long start-up waits for another process's lock. */
const BUSY_TIMEOUT_MS = 5_000;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export interface SqliteSetup {
  synchronous?: "normal" | "full";
  /** Throws when the file is a database of something else. */
  check?: (db: SqliteDatabase) => void;
  /** Creates the tables. */
  init?: (db: SqliteDatabase) => void;
  /** Open the file through a symbolic link (option allowSymlinks); refused by default. */
  allowSymlink?: boolean;
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode, so readers (datasette, other processes)
 * never block the writer. Every failure is an OptionError naming `option` and the path.
 */
export function openSqlite(option: string, path: string, setup: SqliteSetup = {}): SqliteDatabase {
  const driver = loadSqliteDriver(option);
  prepareSqliteFile(option, path, setup.allowSymlink === true);
  let db: SqliteDatabase | undefined;
  try {
    // Another process may hold the write lock for a moment: wait rather than fail.
    db = driver.open(path, BUSY_TIMEOUT_MS);
    // The first statement reads the header: a corrupt file fails here, at start-up, and so does
    // a file that `check` finds is not ours (before WAL mode changes anything in it).
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    setup.check?.(db);
    useWal(db, Date.now() + BUSY_TIMEOUT_MS);
    db.exec(`PRAGMA synchronous = ${setup.synchronous ?? "normal"}`);
    setup.init?.(db);
    return db;
  } catch (error) {
    db?.close();
    // better-sqlite3 says so itself; node:sqlite only says SQLITE_CANTOPEN.
    const problem = existsSync(dirname(path)) ? explainSqliteError(error) : "its directory does not exist";
    throw new OptionError(option, `cannot use ${JSON.stringify(path)}: ${problem}`, { cause: error });
  }
}

/**
 * Switches the file to WAL mode. SQLite answers SQLITE_BUSY at once, without its busy handler,
 * when two processes open a new file together and both switch it (one in six pairs of processes
 * on better-sqlite3, one in three on node:sqlite): start-up waits its turn here instead. The
 * wait is synchronous, as the open is; it happens only when two processes start together.
 */
function useWal(db: SqliteDatabase, deadline: number): void {
  for (;;) {
    try {
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (error) {
      if (sqliteErrorCode(error) !== "SQLITE_BUSY" || Date.now() >= deadline) throw error;
      Atomics.wait(PAUSE, 0, 0, 5);
    }
  }
}

/** A SQLite failure in words a person can act on. */
export function explainSqliteError(error: unknown): string {
  const code = sqliteErrorCode(error);
  const text = (error as { message?: string }).message ?? String(error);
  switch (code) {
    case "SQLITE_NOTADB":
    case "SQLITE_CORRUPT":
      return `the file is not a SQLite database or is corrupt (${code})`;
    case "SQLITE_CANTOPEN":
      return `cannot open the file: check that its directory exists and is writable (${code})`;
    case "SQLITE_READONLY":
    case "SQLITE_PERM":
    case "SQLITE_AUTH":
      return `the file is not writable (${code})`;
    case "SQLITE_FULL":
      return `the disk is full (${code})`;
    default:
      if (code?.startsWith("SQLITE_READONLY")) return `the file or its file system is read-only (${code})`;
      if (/directory does not exist/.test(text)) return "its directory does not exist";
      return code ? `${text} (${code})` : text;
  }
}

/**
 * Whether a SQLite failure means the file cannot be written now (disk full, read-only, I/O
 * error), as opposed to another process holding the lock (SQLITE_BUSY) or a bug.
 */
export function isWriteFailure(error: unknown): boolean {
  const code = sqliteErrorCode(error);
  return code !== undefined && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|PERM)/.test(code);
}

/** A table or column name as SQL text: "name", with inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
