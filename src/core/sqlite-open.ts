import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { OptionError } from "./errors.js";
import { requireOptional } from "./optional-package.js";
import { prepareSqliteFile } from "./sqlite-file.js";

export type SqliteDatabase = BetterSqlite3.Database;
type DatabaseConstructor = typeof BetterSqlite3;

// Loaded on first use only: apps that never use the embedded store or the spool do not need the
// native module installed (it is an optional dependency).
let loaded: DatabaseConstructor | undefined;

export interface SqliteSetup {
  synchronous?: "normal" | "full";
  /** Throws when the file is a database of something else. */
  check?: (db: SqliteDatabase) => void;
  /** Creates the tables. */
  init?: (db: SqliteDatabase) => void;
  /** Open the file through a symbolic link (option allowSymlinks); refused by default. */
  allowSymlink?: boolean;
}

/** better-sqlite3's constructor, loaded once, or an OptionError naming the option that needs it. */
export function loadBetterSqlite3(option: string): DatabaseConstructor {
  loaded ??= requireBetterSqlite3(option, createRequire(import.meta.url));
  return loaded;
}

/** Loads better-sqlite3 with `load`; a failure becomes an OptionError that says what to do. */
export function requireBetterSqlite3(option: string, load: (id: string) => unknown): DatabaseConstructor {
  return requireOptional<DatabaseConstructor>(option, "better-sqlite3", load);
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode, so readers (datasette, other processes)
 * never block the writer. Every failure is an OptionError naming `option` and the path.
 */
export function openSqlite(option: string, path: string, setup: SqliteSetup = {}): SqliteDatabase {
  const Database = loadBetterSqlite3(option);
  prepareSqliteFile(option, path, setup.allowSymlink === true);
  let db: SqliteDatabase | undefined;
  try {
    // Another process may hold the write lock for a moment: wait rather than fail.
    db = new Database(path, { timeout: 5_000 });
    // The first statement reads the header: a corrupt file fails here, at start-up, and so does
    // a file that `check` finds is not ours (before WAL mode changes anything in it).
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    setup.check?.(db);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${setup.synchronous ?? "normal"}`);
    setup.init?.(db);
    return db;
  } catch (error) {
    db?.close();
    throw new OptionError(option, `cannot use ${JSON.stringify(path)}: ${explainSqliteError(error)}`, { cause: error });
  }
}

/** A SQLite failure in words a person can act on. */
export function explainSqliteError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = message ?? String(error);
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
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|PERM)/.test(code);
}

/** A table or column name as SQL text: "name", with inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
