import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsForward } from "../../src/index.js";
import { RedisCluster } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startStore } from "../helpers/lifecycle.js";
import { waitFor } from "../helpers/wait.js";

// The Redis spool on a real three-node Redis Cluster: the client finds the cluster from one
// node's URL, and every key of the spool lives in one slot (the hash tag {key}).
let cluster: RedisCluster;
beforeAll(async () => (cluster = await RedisCluster.start()));
afterAll(() => cluster?.dispose());
const tempDir = useTempDirs();

describe("the Redis spool on a Redis Cluster", () => {
  it("delivers every event once, through a writer and a publisher, with all its keys in one slot", async () => {
    const database = join(tempDir(), "events.db");
    const spool = { url: cluster.url, key: "clustered", leaseMs: 1_000, pollMs: 20 };
    const writer = eventsForward({ spool, publisher: false, logger: false });
    const publisher = eventsForward({ spool, database, logger: false, maxRate: 1000, timePeriod: 1 });
    for (let n = 0; n < 1_000; n++) writer.put({ event: "clustered", properties: { n } });
    await writer.close();
    await expect.poll(() => count(database).n, { timeout: 15_000, interval: 100 }).toBe(1_000);
    expect(publisher.stats()).toMatchObject({ publisher: true, sent: 1_000 });
    // Once: as many rows as distinct ids as distinct events.
    expect(count(database)).toEqual({ rows: 1_000, ids: 1_000, n: 1_000 });

    // The keys the spool itself wrote (while the publisher still holds its lease), wherever they are.
    const keysByNode = await Promise.all(
      cluster.nodes.map(async (node) => (await node.cli("KEYS", "*clustered*")).split("\n").filter(Boolean)),
    );
    await publisher.close();
    const written = keysByNode.flat();
    expect(written).toEqual(expect.arrayContaining(["{clustered}:base", "{clustered}:lease"]));
    expect(written.some((key) => key.startsWith("{clustered}:writer:"))).toBe(true);
    // Every one of them on one node, in one slot; not (necessarily) the node the URL named: the client followed the cluster.
    expect(keysByNode.filter((keys) => keys.length > 0)).toHaveLength(1);
    const slots = await Promise.all(written.map((key) => cluster.nodes[0]!.cli("CLUSTER", "KEYSLOT", key)));
    expect(new Set(slots).size).toBe(1);
  }, 60_000);
});

describe("the Redis spool's keys on a Redis Cluster", () => {
  it("keeps the outbox, the lease, the rate window, the dead letters and the delivery log under the spool's hash tag, in one slot", async () => {
    const store = await startStore((request) =>
      request.rows.some((row) => row.event === "poison")
        ? { status: 400, body: JSON.stringify({ ok: false, errors: ["Row 0 has invalid columns: colour"] }) }
        : { accept: true },
    );
    const spool = { url: cluster.url, key: "tagged", leaseMs: 1_000, pollMs: 20 };
    const writer = eventsForward({ spool, publisher: false, logger: false });
    const publisher = eventsForward({
      spool,
      apiUrl: store.url(),
      logger: false,
      batchLimit: 1,
      maxRate: 100,
      timePeriod: 1,
    });
    try {
      for (const event of ["a", "poison", "b"]) writer.put({ event });
      await writer.close();
      await waitFor(() => publisher.stats().sent === 2 && publisher.stats().dropped === 1, { what: "delivery" });
      await publisher.flush();
      await waitFor(async () => (await keysOf("tagged")).some((key) => key.endsWith(":dead")), {
        what: "the dead letter",
      });
      // What the spool actually wrote, found by SCAN on every node, not names the test builds.
      const keys = await keysOf("tagged");
      for (const suffix of [
        ":base",
        ":epoch",
        ":lease",
        ":rate",
        ":dead",
        ":dead:ids",
        ":delivery",
        ":dead:reason:HTTP 400",
      ])
        expect(keys.some((key) => key.endsWith(suffix))).toBe(true);
      const slots = new Set(await Promise.all(keys.map((key) => cluster.nodes[0]!.cli("CLUSTER", "KEYSLOT", key))));
      expect(slots).toEqual(new Set([await cluster.nodes[0]!.cli("CLUSTER", "KEYSLOT", "{tagged}")]));
    } finally {
      await publisher.close();
    }
  }, 60_000);
});

/** Every key of the cluster that names the spool, from SCAN on each node. */
async function keysOf(spoolKey: string): Promise<string[]> {
  const found = await Promise.all(cluster.nodes.map((node) => node.cli("--scan", "--pattern", `*${spoolKey}*`)));
  return found.flatMap((text) => text.split("\n")).filter((key) => key !== "");
}

/** Rows, distinct ids and distinct events in the table: an event written twice shows. */
function count(path: string): { rows: number; ids: number; n: number } {
  try {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .prepare(
          "select count(*) as rows, count(distinct id) as ids, count(distinct json_extract(properties, '$.n')) as n from datasette_events",
        )
        .get() as { rows: number; ids: number; n: number };
    } finally {
      db.close();
    }
  } catch {
    return { rows: 0, ids: 0, n: 0 };
  }
}
