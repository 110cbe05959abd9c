// The SQLite driver interface (src/core/sqlite-driver.ts) over every driver this runtime has:
// better-sqlite3 everywhere it is installed, node:sqlite on Node 22.13 and later. Each driver
// must give the same rows, the same codes and the same transactions. The spool's and the
// embedded store's own tests run once per driver too (vitest.config.ts).
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OptionError } from "../../src/index.js";
import { driverPreference, loadSqliteDriver, SQLITE_DRIVER_ENV } from "../../src/core/sqlite-choice.js";
import { sqliteErrorCode, transaction, type SqliteDriverName } from "../../src/core/sqlite-driver.js";
import { explainSqliteError, isWriteFailure, openSqlite } from "../../src/core/sqlite-open.js";
import { loadableSqliteDrivers } from "../helpers/sqlite-drivers.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const requireReal = createRequire(import.meta.url);

/** The drivers this runtime can load (Node 20: better-sqlite3; Node 22 and 24: both). */
const available = loadableSqliteDrivers(["better-sqlite3", "node:sqlite"] as const);
const driver = (name: SqliteDriverName) => loadSqliteDriver("test", undefined, [name], "");

const notFound = (id: string): never => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
};
const noBuiltin = (id: string): never => {
  throw Object.assign(new Error(`No such built-in module: ${id}`), { code: "ERR_UNKNOWN_BUILTIN_MODULE" });
};

describe("which driver", () => {
  it("is node:sqlite where it prints no warning (Node 24.15 on), else better-sqlite3 first", () => {
    expect(driverPreference({ node: "20.18.1" })).toEqual(["better-sqlite3"]);
    expect(driverPreference({ node: "22.12.0" })).toEqual(["better-sqlite3"]); // node:sqlite behind a flag
    // Node 22 and 24 before 24.15 print an ExperimentalWarning when node:sqlite loads.
    expect(driverPreference({ node: "22.13.0" })).toEqual(["better-sqlite3", "node:sqlite"]);
    expect(driverPreference({ node: "24.14.1" })).toEqual(["better-sqlite3", "node:sqlite"]);
    expect(driverPreference({ node: "24.15.0" })).toEqual(["node:sqlite", "better-sqlite3"]);
    expect(driverPreference({ node: "26.1.0" })).toEqual(["node:sqlite", "better-sqlite3"]);
    expect(driverPreference({ node: "1.2.0", bun: "1.3.0" })).toEqual(["bun:sqlite"]);
    expect(driverPreference({ node: "24.2.0", deno: "2.5.0" })).toEqual(["node:sqlite"]);
  });

  it("falls back to the next driver when the first is installed but its native build is missing", () => {
    // better-sqlite3 installed without its binary (no compiler, no prebuilt one): its constructor
    // throws on the first open, which the loader tries, so the next driver is used.
    const [broken, fallback] = available.includes("node:sqlite")
      ? (["better-sqlite3", "node:sqlite"] as const)
      : (["node:sqlite", "better-sqlite3"] as const);
    const noBinding = function () {
      throw new Error("Could not locate the bindings file");
    };
    const load = (id: string) =>
      id === broken ? (id === "better-sqlite3" ? noBinding : { DatabaseSync: noBinding }) : requireReal(id);
    expect(loadSqliteDriver("database", load, [broken, fallback], "").name).toBe(fallback);
  });

  it("with none there, the error names the option, the package to install and the Node that needs none", () => {
    let error: unknown;
    try {
      loadSqliteDriver("spool", notFound, ["better-sqlite3"], "");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe("spool");
    expect((error as Error).message).toMatch(
      /^events-forward option spool: needs SQLite, and no driver loaded: the optional package better-sqlite3 is not installed: npm install better-sqlite3; or run Node 22.13 or later, whose built-in node:sqlite needs no package$/,
    );
    expect(() => loadSqliteDriver("database", noBuiltin, ["better-sqlite3", "node:sqlite"], "")).toThrow(
      /option database: needs SQLite, .*better-sqlite3 failed to load: .*; node:sqlite needs Node 22.13 or later/,
    );
  });

  it("a broken better-sqlite3 says why it failed", () => {
    const broken = () => {
      throw new Error("Could not locate the bindings file");
    };
    expect(() => loadSqliteDriver("database", broken, ["better-sqlite3"], "")).toThrow(
      /option database: needs SQLite, and no driver loaded: better-sqlite3 failed to load: Could not locate the bindings file/,
    );
  });

  it(`${SQLITE_DRIVER_ENV} picks the driver, and an unknown name fails naming the variable`, () => {
    for (const name of available) expect(loadSqliteDriver("spool", undefined, ["bun:sqlite"], name).name).toBe(name);
    expect(() => loadSqliteDriver("spool", undefined, undefined, "sqlite3")).toThrow(
      new RegExp(`option ${SQLITE_DRIVER_ENV}: must be one of better-sqlite3, node:sqlite, bun:sqlite, not "sqlite3"`),
    );
  });
});

describe.each(available)("the driver %s", (name) => {
  it("binds and reads back the same values: text, integers, reals, null; named and positional parameters", () => {
    const db = driver(name).open(join(tempDir(), "values.db"), 1_000);
    db.exec("CREATE TABLE t (a TEXT, b INTEGER, c, d REAL); CREATE TABLE u (x)");
    const insert = db.prepare<[{ a: unknown; b: unknown; c: unknown; d: unknown }]>(
      "INSERT INTO t VALUES (@a, @b, @c, @d)",
    );
    expect(insert.run({ a: "x", b: 5, c: 5, d: 5 }).changes).toBe(1);
    insert.run({ a: 5, b: 2.5, c: null, d: "7" });
    insert.run({ a: 1.5, b: "12", c: "é z", d: 0 });
    const rows = db
      .prepare<[], Record<string, unknown>>(
        "SELECT a, typeof(a) AS ta, b, typeof(b) AS tb, c, typeof(c) AS tc, d, typeof(d) AS td FROM t ORDER BY rowid",
      )
      .all()
      .map((row) => ({ ...row }));
    // A JavaScript number binds as a REAL in every driver: 5 in a TEXT column reads back "5.0".
    expect(rows).toEqual([
      { a: "x", ta: "text", b: 5, tb: "integer", c: 5, tc: "real", d: 5, td: "real" },
      { a: "5.0", ta: "text", b: 2.5, tb: "real", c: null, tc: "null", d: 7, td: "real" },
      { a: "1.5", ta: "text", b: 12, tb: "integer", c: "é z", tc: "text", d: 0, td: "real" },
    ]);
    expect(db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM t WHERE b > ?").get(3)).toEqual({ n: 2 });
    expect(db.prepare("SELECT * FROM u").get()).toBeUndefined();
    expect(db.prepare("SELECT * FROM u").all()).toEqual([]);
    expect(db.prepare("DELETE FROM t WHERE b > ?").run(3).changes).toBe(2);
    db.close();
  });

  it("stores a NUL character whole; Node 22's node:sqlite reads text only up to it (docs/spool.md)", () => {
    const db = driver(name).open(join(tempDir(), "nul.db"), 1_000);
    db.exec("CREATE TABLE t (c TEXT)");
    db.prepare("INSERT INTO t VALUES (?)").run("é\u0000z");
    const row = db.prepare<[], { c: string; h: string }>("SELECT c, hex(c) AS h FROM t").get()!;
    expect(row.h).toBe("C3A9007A");
    const cutOnRead = name === "node:sqlite" && Number(process.versions.node.split(".")[0]) < 24;
    expect(row.c).toBe(cutOnRead ? "é" : "é\u0000z");
    db.close();
  });

  it("a transaction commits when its function returns and rolls back when it throws", () => {
    const db = driver(name).open(join(tempDir(), "tx.db"), 1_000);
    db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    const insert = db.prepare<[number]>("INSERT INTO t VALUES (?)");
    expect(transaction(db, () => (insert.run(1), "done"), "immediate")).toBe("done");
    expect(() =>
      transaction(db, () => {
        insert.run(2);
        insert.run(1); // the primary key is taken
      }),
    ).toThrow();
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT x FROM t").all()).toEqual([{ x: 1 }]);
    db.close();
  });

  it("a failure carries SQLite's code as better-sqlite3 names it, so messages and retries are the same", () => {
    const path = join(tempDir(), "codes.db");
    const db = driver(name).open(path, 1_000);
    db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    db.exec("INSERT INTO t VALUES (1)");
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error("did not throw");
    };
    expect(sqliteErrorCode(caught(() => db.exec("INSERT INTO t VALUES (1)")))).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
    // Another connection holds the write lock and this one does not wait: busy, not a write failure.
    const other = driver(name).open(path, 0);
    db.exec("BEGIN IMMEDIATE");
    const busy = caught(() => other.exec("BEGIN IMMEDIATE"));
    db.exec("ROLLBACK");
    expect(sqliteErrorCode(busy)).toBe("SQLITE_BUSY");
    expect(isWriteFailure(busy)).toBe(false);
    other.close();
    db.close();
    // Not a database: the same words at start-up, whichever driver read it.
    const junk = join(tempDir(), "junk.db");
    writeFileSync(junk, "this is not a database, not even close; ".repeat(40));
    expect(() => openSqlite("database", junk)).toThrow(
      /the file is not a SQLite database or is corrupt \(SQLITE_NOTADB\)/,
    );
    expect(explainSqliteError(caught(() => driver(name).open(join(tempDir(), "no", "such", "dir.db"), 0)))).toMatch(
      /directory/,
    );
  });

  it("reads a file another driver wrote, row for row", () => {
    for (const writer of available) {
      const path = join(tempDir(), `${writer.replace(":", "-")}.db`);
      const w = driver(writer).open(path, 1_000);
      w.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, j TEXT)");
      w.prepare("INSERT INTO t VALUES (?, ?, ?)").run("01J", 42, '{"a":[1,2]}');
      w.close();
      const r = driver(name).open(path, 1_000);
      expect(
        r
          .prepare("SELECT * FROM t")
          .all()
          .map((row) => ({ ...(row as object) })),
      ).toEqual([{ id: "01J", n: 42, j: '{"a":[1,2]}' }]);
      r.close();
    }
  });
});
