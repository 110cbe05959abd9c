import type { SqliteConnection, SqliteDriver, SqliteStatement } from "./sqlite-driver.js";

// The shapes of the three modules, as much as we use of them (their own types are optional or
// absent: @types/node 20 has no node:sqlite, bun-types is Bun's).

interface NativeStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  exec(sql: string): unknown;
  close(): void;
}

export type BetterSqlite3Module = new (
  path: string,
  options: { timeout: number },
) => NativeDatabase & {
  readonly inTransaction: boolean;
};

export interface NodeSqliteModule {
  DatabaseSync: new (path: string) => NativeDatabase & { readonly isTransaction: boolean };
}

export interface BunSqliteModule {
  Database: new (
    path: string,
    options: { create: boolean; strict: boolean },
  ) => NativeDatabase & {
    readonly inTransaction: boolean;
  };
}

/** better-sqlite3: its statements already have our shape. */
export function betterSqlite3Driver(Database: BetterSqlite3Module): SqliteDriver {
  return {
    name: "better-sqlite3",
    open(path, busyTimeoutMs) {
      const db = new Database(path, { timeout: busyTimeoutMs });
      return {
        driver: "better-sqlite3",
        prepare: <P extends unknown[], R>(sql: string) => db.prepare(sql) as SqliteStatement<P, R>,
        exec: (sql) => void db.exec(sql),
        get inTransaction() {
          return db.inTransaction;
        },
        close: () => db.close(),
      };
    },
  };
}

/** Node's node:sqlite (DatabaseSync): the same shape; `@name` parameters bind from `{ name }` by default. */
export function nodeSqliteDriver({ DatabaseSync }: NodeSqliteModule): SqliteDriver {
  return {
    name: "node:sqlite",
    open(path, busyTimeoutMs) {
      const db = new DatabaseSync(path);
      const connection: SqliteConnection = {
        driver: "node:sqlite",
        prepare: <P extends unknown[], R>(sql: string) => db.prepare(sql) as SqliteStatement<P, R>,
        exec: (sql) => void db.exec(sql),
        get inTransaction() {
          return db.isTransaction;
        },
        close: () => db.close(),
      };
      return withBusyTimeout(connection, busyTimeoutMs);
    },
  };
}

/**
 * Bun's bun:sqlite: `strict` binds `{ name }` to `@name` (as the others do); its get() answers
 * null for no row, which becomes undefined here.
 */
export function bunSqliteDriver({ Database }: BunSqliteModule): SqliteDriver {
  return {
    name: "bun:sqlite",
    open(path, busyTimeoutMs) {
      const db = new Database(path, { create: true, strict: true });
      const connection: SqliteConnection = {
        driver: "bun:sqlite",
        prepare: <P extends unknown[], R>(sql: string) => {
          const statement = db.prepare(sql);
          return {
            run: (...params: P) => statement.run(...params) as { changes: number },
            get: (...params: P) => (statement.get(...params) ?? undefined) as R | undefined,
            all: (...params: P) => statement.all(...params) as R[],
          };
        },
        exec: (sql) => void db.exec(sql),
        get inTransaction() {
          return db.inTransaction;
        },
        close: () => db.close(),
      };
      return withBusyTimeout(connection, busyTimeoutMs);
    },
  };
}

/** Sets the busy timeout by PRAGMA (better-sqlite3 takes it as an option); closes the file if that fails. */
function withBusyTimeout(db: SqliteConnection, ms: number): SqliteConnection {
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(ms)}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
