/**
 * The one SQLite interface the embedded store and the spool use, whatever the runtime has:
 * better-sqlite3 (an npm package, native), Node's built-in `node:sqlite` (22.13 and later) or
 * Bun's `bun:sqlite`. Each backend (core/sqlite-backends.ts) is a thin adapter: statements are
 * synchronous, named parameters are written `@name` in SQL and passed as `{ name }`, integers read
 * back as numbers, and a SQLite failure carries its result code (sqliteErrorCode).
 */

export type SqliteDriverName = "better-sqlite3" | "node:sqlite" | "bun:sqlite";

/** A prepared statement. `P` is the parameter list: positional values, or one object of named ones. */
export interface SqliteStatement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): { changes: number };
  /** The first row, or undefined when there is none. */
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** An open database file. */
export interface SqliteConnection {
  readonly driver: SqliteDriverName;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R>;
  /** Runs one or more statements separated by semicolons, results ignored (DDL, PRAGMA, BEGIN). */
  exec(sql: string): void;
  /** Whether a transaction is open on this connection. */
  readonly inTransaction: boolean;
  close(): void;
}

export interface SqliteDriver {
  readonly name: SqliteDriverName;
  /** Opens (creating if needed) the file; waits up to `busyTimeoutMs` for another process's write lock. */
  open(path: string, busyTimeoutMs: number): SqliteConnection;
}

/**
 * Runs `fn` in a transaction: committed when it returns, rolled back when it throws (or when the
 * commit fails). `immediate` takes the write lock at once, so two processes cannot both read and
 * then both fail to write. Not nestable (none of our callers nests).
 */
export function transaction<T>(db: SqliteConnection, fn: () => T, mode: "deferred" | "immediate" = "deferred"): T {
  db.exec(mode === "immediate" ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    // A failed COMMIT (disk full, busy) can leave the transaction open: end it, keep the error.
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** SQLite's primary result codes, by number (node:sqlite and bun:sqlite report the number). */
const PRIMARY = [
  "OK", "ERROR", "INTERNAL", "PERM", "ABORT", "BUSY", "LOCKED", "NOMEM", "READONLY", "INTERRUPT",
  "IOERR", "CORRUPT", "NOTFOUND", "FULL", "CANTOPEN", "PROTOCOL", "EMPTY", "SCHEMA", "TOOBIG",
  "CONSTRAINT", "MISMATCH", "MISUSE", "NOLFS", "AUTH", "FORMAT", "RANGE", "NOTADB", "NOTICE", "WARNING",
]; // prettier-ignore

/** The extended codes our messages name, as better-sqlite3 spells them. */
const EXTENDED: Record<number, string> = {
  261: "BUSY_RECOVERY", 517: "BUSY_SNAPSHOT", 773: "BUSY_TIMEOUT",
  264: "READONLY_RECOVERY", 520: "READONLY_CANTLOCK", 776: "READONLY_ROLLBACK", 1032: "READONLY_DBMOVED",
  1288: "READONLY_CANTINIT", 1544: "READONLY_DIRECTORY",
  266: "IOERR_READ", 522: "IOERR_SHORT_READ", 778: "IOERR_WRITE", 1034: "IOERR_FSYNC", 1290: "IOERR_DIR_FSYNC",
  1546: "IOERR_TRUNCATE", 3338: "IOERR_SHMOPEN", 3594: "IOERR_SHMSIZE", 4874: "IOERR_SHMMAP",
  526: "CANTOPEN_ISDIR", 1038: "CANTOPEN_CONVPATH", 1294: "CANTOPEN_DIRTYWAL", 1550: "CANTOPEN_SYMLINK",
  275: "CONSTRAINT_CHECK", 1299: "CONSTRAINT_NOTNULL", 1555: "CONSTRAINT_PRIMARYKEY", 2067: "CONSTRAINT_UNIQUE",
  267: "CORRUPT_VTAB", 779: "CORRUPT_INDEX",
}; // prettier-ignore

/**
 * A SQLite failure's result code as better-sqlite3 names it (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`),
 * whichever driver threw it; undefined for an error that is not SQLite's.
 */
export function sqliteErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const {
    name: kind,
    code,
    errcode,
    errno,
  } = error as { name?: unknown; code?: unknown; errcode?: unknown; errno?: unknown };
  if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  // node:sqlite: code ERR_SQLITE_ERROR, errcode the extended result code; bun:sqlite's SQLiteError: errno.
  const number =
    typeof errcode === "number" ? errcode : kind === "SQLiteError" && typeof errno === "number" ? errno : NaN;
  if (!Number.isInteger(number) || number <= 0) return undefined;
  const name = EXTENDED[number] ?? PRIMARY[number & 0xff];
  return name === undefined ? undefined : `SQLITE_${name}`;
}
