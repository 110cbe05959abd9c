import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventsForward, type EventsForward } from "../../src/index.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

// What a process on a shared spool reports in stats(): SQLite, and a real redis-server.

const tempDir = useTempDirs();
const open: EventsForward[] = [];
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const events of open.splice(0)) await events.close({ timeoutMs: 1_000 });
  for (const server of servers.splice(0)) await server.dispose();
});

/** Each spool kind, and how to count what its outbox holds. */
const KINDS = [
  {
    name: "SQLite",
    async make() {
      const path = join(tempDir(), "spool.db");
      return { spool: { path, leaseMs: 1_000, pollMs: 20 }, outbox: async () => countRows(path) };
    },
  },
  {
    name: "Redis",
    async make() {
      const redis = await RedisServer.start();
      servers.push(redis);
      return {
        spool: { url: redis.url, key: "stats", leaseMs: 1_000, pollMs: 20 },
        outbox: async () => Number(await redis.cli("LLEN", "{stats}:events")),
      };
    },
  },
];

function countRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe.each(KINDS)("stats() on a $name spool", ({ make }) => {
  it("a process that only writes reports as queued what waits in the shared spool now, not what it saw last", async () => {
    const { spool, outbox } = await make();
    const writer = eventsForward({ spool, publisher: false, logger: false });
    open.push(writer);
    for (let n = 0; n < 394; n++) writer.put({ event: "written", properties: { n } });
    await writer.flush();
    await waitFor(() => writer.stats().queued === 394, { what: "the writer to see its events in the spool" });
    const publisher = eventsForward({
      spool,
      database: join(tempDir(), "events.db"),
      logger: false,
      maxRate: 1_000,
      timePeriod: 1,
    });
    open.push(publisher);
    await waitFor(() => publisher.stats().sent === 394, { what: "the publisher to deliver them" });
    await waitFor(async () => (await outbox()) === 0, { what: "the spool to empty" });
    // Within a few heartbeats (pollMs), the writer sees the spool as it is.
    await waitFor(() => writer.stats().queued === 0, { timeoutMs: 1_000, what: "the writer to see the empty spool" });
    expect(writer.stats()).toMatchObject({ queued: 0, spooled: 394, buffered: 0, publisher: false });
  });
});
