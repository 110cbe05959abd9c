import { createRequire } from "node:module";
import { OptionError } from "./errors.js";
import {
  betterSqlite3Driver,
  bunSqliteDriver,
  nodeSqliteDriver,
  type BetterSqlite3Module,
  type BunSqliteModule,
  type NodeSqliteModule,
} from "./sqlite-backends.js";
import type { SqliteDriver, SqliteDriverName } from "./sqlite-driver.js";

/** Names the driver to use instead of the runtime's preferred one (docs/spool.md). */
export const SQLITE_DRIVER_ENV = "EVENTS_FORWARD_SQLITE_DRIVER";

const DRIVERS: readonly SqliteDriverName[] = ["better-sqlite3", "node:sqlite", "bun:sqlite"];

/**
 * The drivers to try on this runtime, best first (BENCHMARKS.md, "SQLite drivers"). Both cost
 * put() the same. On Node 24 node:sqlite took about a tenth less CPU per event and forwarded
 * faster in two runs of three, and from 24.15 it prints nothing: it goes first. On Node 22 it
 * prints an ExperimentalWarning and forwarded slower: better-sqlite3 goes first where installed.
 * node:sqlite needs no flag from 22.13 on.
 */
export function driverPreference(versions: Partial<Record<string, string>> = process.versions): SqliteDriverName[] {
  if (versions.bun !== undefined) return ["bun:sqlite"];
  if (versions.deno !== undefined) return ["node:sqlite"];
  const [major = 0, minor = 0] = (versions.node ?? "0.0").split(".").map(Number);
  if (major > 24 || (major === 24 && minor >= 15)) return ["node:sqlite", "better-sqlite3"];
  if (major > 22 || (major === 22 && minor >= 13)) return ["better-sqlite3", "node:sqlite"];
  return ["better-sqlite3"];
}

const loaded = new Map<SqliteDriverName, SqliteDriver>();

/**
 * The SQLite driver for `option` (the option that needs a file): the one SQLITE_DRIVER_ENV names,
 * else the first of driverPreference() that loads. Loaded on first use only, so apps without the
 * embedded store or a spool load none. None there: an OptionError that says what to install.
 */
export function loadSqliteDriver(
  option: string,
  load?: (id: string) => unknown,
  preference = driverPreference(),
  chosen = process.env[SQLITE_DRIVER_ENV],
): SqliteDriver {
  const forced = chosen !== undefined && chosen !== "";
  if (forced) {
    if (!DRIVERS.includes(chosen as SqliteDriverName))
      throw new OptionError(SQLITE_DRIVER_ENV, `must be one of ${DRIVERS.join(", ")}, not ${JSON.stringify(chosen)}`);
    preference = [chosen as SqliteDriverName];
  }
  const problems: string[] = [];
  for (const name of preference) {
    // Drivers loaded the usual way are kept; a caller's own `load` (tests) always loads afresh.
    const driver = load === undefined ? loaded.get(name) : undefined;
    if (driver !== undefined) return driver;
    try {
      const fresh = loadDriver(name, load ?? createRequire(import.meta.url));
      if (load === undefined) loaded.set(name, fresh);
      return fresh;
    } catch (error) {
      problems.push(whyNot(name, error));
    }
  }
  if (!forced && !preference.includes("node:sqlite") && !preference.includes("bun:sqlite"))
    problems.push("or run Node 22.13 or later, whose built-in node:sqlite needs no package");
  throw new OptionError(option, `needs SQLite, and no driver loaded: ${problems.join("; ")}`);
}

function loadDriver(name: SqliteDriverName, load: (id: string) => unknown): SqliteDriver {
  const driver =
    name === "better-sqlite3"
      ? betterSqlite3Driver(load(name) as BetterSqlite3Module)
      : name === "node:sqlite"
        ? nodeSqliteDriver(load(name) as NodeSqliteModule)
        : bunSqliteDriver(load(name) as BunSqliteModule);
  // better-sqlite3 loads its native binary only when a database opens: a missing or mismatched
  // build fails here, so the next driver can be tried.
  driver.open(":memory:", 0).close();
  return driver;
}

function whyNot(name: SqliteDriverName, error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (name === "better-sqlite3" && (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND"))
    return "the optional package better-sqlite3 is not installed: npm install better-sqlite3";
  if (name === "node:sqlite" && (code === "ERR_UNKNOWN_BUILTIN_MODULE" || code === "MODULE_NOT_FOUND"))
    return `node:sqlite needs Node 22.13 or later (this is ${process.version})`;
  return `${name} failed to load: ${message ?? String(error)}`;
}
