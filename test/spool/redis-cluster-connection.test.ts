// The Redis spool's connection to a Redis Cluster node: it finds out at connect, and a cluster
// client takes over, so a key served by another node is reached too (a plain client would get MOVED).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisCluster } from "../helpers/redis-server.js";

let cluster: RedisCluster;
beforeAll(async () => (cluster = await RedisCluster.start()), 60_000);
afterAll(() => cluster?.dispose());

describe("RedisConnection on a Redis Cluster", () => {
  it("runs the scripts on whichever node serves the key's slot", async () => {
    const connection = new RedisConnection(cluster.url, 5_000);
    try {
      const tags = Array.from({ length: 12 }, (_, i) => `tag${i}`);
      for (const tag of tags)
        expect(await connection.run("leaseClaim", [`{${tag}}:lease`], ["me", "host", 1, 60_000])).toBe(2);
      // Not all on the node the URL named: the cluster client followed the slots.
      const onFirst = (await cluster.nodes[0]!.cli("KEYS", "*:lease")).split("\n").filter(Boolean);
      expect(onFirst.length).toBeLessThan(tags.length);
      expect(connection.problem).toBe("");
    } finally {
      await connection.close();
    }
  });

  it("gives every node the URL's password (a cluster that requires one)", async () => {
    const guarded = await RedisCluster.start(3, "s3cr@t");
    try {
      const connection = new RedisConnection(guarded.url, 5_000);
      try {
        for (let i = 0; i < 12; i++)
          expect(await connection.run("leaseClaim", [`{tag${i}}:lease`], ["me", "host", 1, 60_000])).toBe(2);
      } finally {
        await connection.close();
      }
    } finally {
      await guarded.dispose();
    }
  }, 60_000);
});
