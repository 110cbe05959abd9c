import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventsForward } from "../../src/index.js";
import { killHard, startChild, type Child } from "../helpers/child.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const CHILD = join(import.meta.dirname, "../fixtures/spool-child.ts");
const tempDir = useTempDirs();
const children: Child[] = [];
afterAll(() => {
  for (const child of children) child.process.kill("SIGKILL");
});

function read<T>(path: string, sql: string): T | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).get() as T | undefined;
  } finally {
    db.close();
  }
}
const holderPid = (spool: string) =>
  Number(read<{ holder: string | null }>(spool, "select holder from lease")?.holder?.split(":")[1] ?? 0);

describe("the publisher lease across processes", () => {
  it("passes to another process within a few seconds when its holder is killed, and that one delivers", async () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    const database = join(dir, "events.db");
    const options = JSON.stringify({ spool: { path: spool, leaseMs: 1_000, pollMs: 20 }, database });
    const [a, b] = [
      startChild(CHILD, [], { SPOOL_CHILD_OPTIONS: options }),
      startChild(CHILD, [], { SPOOL_CHILD_OPTIONS: options }),
    ];
    children.push(a, b);
    await Promise.all([a, b].map((child) => child.message((m) => m.ready !== undefined, "ready")));
    await waitFor(() => [a.pid, b.pid].includes(holderPid(spool)), { what: "one of the two to hold the lease" });
    const [holder, survivor] = holderPid(spool) === a.pid ? [a, b] : [b, a];

    const killedAt = Date.now();
    await killHard(holder);
    await waitFor(() => holderPid(spool) === survivor.pid, {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: "the survivor to take the lease",
    });
    const takeoverMs = Date.now() - killedAt;
    // Not before the dead holder's lease ran out (it was renewed at most leaseMs / 5 before the kill).
    expect(takeoverMs).toBeGreaterThanOrEqual(1_000 - 1_000 / 5 - 50);
    expect(takeoverMs).toBeLessThan(3_000);

    // Events written by a process that only writes reach the store through the survivor.
    const writer = eventsForward({ spool: { path: spool, groupCommitMs: 0 }, publisher: false, logger: false });
    for (let n = 0; n < 50; n++) writer.put({ event: "after-takeover", properties: { n } });
    await writer.close();
    await waitFor(
      () =>
        (read<{ c: number }>(database, "select count(*) as c from datasette_events where event = 'after-takeover'")
          ?.c ?? 0) === 50,
      {
        timeoutMs: 5_000,
        what: "the survivor to deliver 50 events",
      },
    );
    survivor.process.send({ stats: true });
    const { stats } = (await survivor.message((m) => m.stats !== undefined, "stats")) as {
      stats: { publisher: boolean; sent: number };
    };
    expect(stats).toMatchObject({ publisher: true, sent: 50 });

    survivor.process.kill("SIGTERM");
    expect(await survivor.exited).toBe(0);
  }, 30_000);
});
