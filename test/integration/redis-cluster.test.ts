import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsForward } from "../../src/index.js";
import { RedisCluster } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";

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
    await expect.poll(() => count(database), { timeout: 15_000, interval: 100 }).toBe(1_000);
    expect(publisher.stats()).toMatchObject({ publisher: true, sent: 1_000 });
    await publisher.close();

    const slots = await Promise.all(
      ["events", "base", "lease", "rate"].map((suffix) =>
        cluster.nodes[0]!.cli("CLUSTER", "KEYSLOT", `{clustered}:${suffix}`),
      ),
    );
    expect(new Set(slots).size).toBe(1);
    // The slot's keys are on one node, and it is not (necessarily) the node the URL named: the client followed the cluster.
    const owners = await Promise.all(cluster.nodes.map((node) => node.cli("CLUSTER", "COUNTKEYSINSLOT", slots[0]!)));
    expect(owners.filter((keys) => Number(keys) > 0)).toHaveLength(1);
  }, 60_000);
});

function count(path: string): number {
  try {
    const db = new Database(path, { readonly: true });
    try {
      return (
        db.prepare("select count(distinct json_extract(properties, '$.n')) as c from datasette_events").get() as {
          c: number;
        }
      ).c;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}
