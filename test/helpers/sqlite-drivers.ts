// Which SQLite driver the suite runs the SQLite tests on a second time (vitest.config.ts): on a
// Node with both better-sqlite3 and node:sqlite (22.13 and later, better-sqlite3 built for it),
// the spool's and the embedded store's tests run once with the preferred driver (the whole
// suite) and once more with the other, through EVENTS_FORWARD_SQLITE_DRIVER.
import { driverPreference, loadSqliteDriver, SQLITE_DRIVER_ENV } from "../../src/core/sqlite-choice.js";
import type { SqliteDriverName } from "../../src/core/sqlite-driver.js";
import { diskTestFiles } from "../faults/disk-tests.js";

export { SQLITE_DRIVER_ENV };

/** The test files whose code opens SQLite files through the driver: the spool, its CLI, the embedded store. */
export function sqliteTestFiles(): string[] {
  return [
    "test/spool/sqlite-spool.test.ts",
    "test/spool/sqlite-spool-unwritable.test.ts",
    "test/spool/sqlite-spool-parts.test.ts",
    "test/spool/sqlite-lease.test.ts",
    "test/spool/dead-letters.test.ts",
    "test/stores/sqlite/sqlite-sink.test.ts",
    "test/integration/lease-takeover.test.ts",
    "test/integration/spool-kill.test.ts",
    "test/integration/spool-cluster.test.ts",
    "test/integration/operate-cli.test.ts",
    ...diskTestFiles(),
  ];
}

/** The drivers of `names` that load on this runtime. */
export function loadableSqliteDrivers<T extends SqliteDriverName>(names: readonly T[]): T[] {
  return names.filter((name) => {
    try {
      loadSqliteDriver("test", undefined, [name], "");
      return true;
    } catch {
      return false;
    }
  });
}

/** The driver the whole suite does not use but this runtime has, if any. */
export function secondSqliteDriver(): SqliteDriverName | undefined {
  const chosen = process.env[SQLITE_DRIVER_ENV];
  const usable = loadableSqliteDrivers(driverPreference());
  const first = chosen !== undefined && chosen !== "" ? chosen : usable[0];
  return usable.find((name) => name !== first);
}
