// Two processes that open a new spool file at the same moment (a fleet started together, two
// workers of one app) both start: neither fails with "database is locked" while the other
// switches the file to WAL mode (src/core/sqlite-open.ts, useWal). Before that wait, one pair in
// six failed on better-sqlite3 and one in three on node:sqlite.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SQLITE_DRIVER_ENV } from "../../src/core/sqlite-choice.js";
import { startChild, type Child } from "../helpers/child.js";
import { loadableSqliteDrivers } from "../helpers/sqlite-drivers.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const CHILD = join(import.meta.dirname, "../fixtures/open-sqlite-child.ts");
const tempDir = useTempDirs();
const children: Child[] = [];
afterAll(() => {
  for (const child of children) child.process.kill("SIGKILL");
});

const ROUNDS = 60;

describe.each(loadableSqliteDrivers(["better-sqlite3", "node:sqlite"] as const))("with %s", (driver) => {
  it(`two processes opening one new spool file together both open it (${ROUNDS} files)`, async () => {
    const pair = [0, 1].map(() => startChild(CHILD, [], { [SQLITE_DRIVER_ENV]: driver, NODE_NO_WARNINGS: "1" }));
    children.push(...pair);
    await Promise.all(pair.map((child) => child.message((m) => m.ready !== undefined, "ready")));

    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(tempDir(), "spool.db");
      for (const child of pair) child.process.send({ path });
      const answers = await Promise.all(
        pair.map((child) => child.message((m) => m.opened === path || m.failed === path, `an answer for ${path}`)),
      );
      for (const answer of answers) if (answer.failed !== undefined) failures.push(String(answer.message));
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
