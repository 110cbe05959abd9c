import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { killHard, startChild, type Child } from "../helpers/child.js";
import { rowIds, useProxiedDatasette } from "../helpers/recording-proxy.js";
import { useRedisServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const CHILD = join(import.meta.dirname, "../fixtures/spool-child.ts");

const t = useProxiedDatasette();
const redis = useRedisServer({ appendonly: true });

function spoolChild(env: Record<string, string>, options: object): Child {
  const child = startChild(CHILD, [], {
    SPOOL_CHILD_OPTIONS: JSON.stringify({
      apiUrl: `${t.proxy.url}/data/-/create`,
      apiToken: t.ds.rootToken,
      batchLimit: 25,
      maxRate: 20,
      timePeriod: 0.1,
      requestTimeoutMs: 60_000,
      ...options,
    }),
    ...env,
  });
  t.children.push(child);
  return child;
}

const durableOf = (child: Child) =>
  Math.max(0, ...child.messages.map((m) => (typeof m.durable === "number" ? m.durable : 0)));

// The same guarantee from both spool kinds: a file on this host, a list in Redis.
// Each writes its own table.
const SPOOLS: Array<[string, () => object, string]> = [
  ["SQLite", () => ({ path: join(t.ds.dir, "spool.db") }), "datasette_events"],
  ["Redis", () => ({ url: redis.server.url, key: "kill" }), "redis_events"],
];

describe.each(SPOOLS)("the %s spool after kill -9", (_, where, table) => {
  const countBelow = async (k: number): Promise<number> => {
    const [row] = await t.ds.query(
      `select count(distinct json_extract(properties, '$.n')) as c from ${table} where json_extract(properties, '$.n') < ${k}`,
    );
    return Number(row!.c);
  };

  it("delivers every event whose put was committed exactly once, and resends the batch that was in flight without duplicate rows", async () => {
    const spool = { ...where(), leaseMs: 1_000, pollMs: 20 };
    const earlier = t.proxy.requests.length; // the other spool's run went first
    const ours = () => t.proxy.requests.slice(earlier);
    const writer = spoolChild({ SPOOL_CHILD_PUT: "100000", SPOOL_CHILD_PER_TURN: "5" }, { spool, table });
    await writer.message((m) => m.ready !== undefined, "ready");

    // Let a few batches through, then keep the next one in flight: Datasette writes its rows,
    // the child never hears back.
    await waitFor(() => ours().filter((r) => r.status === 201).length >= 3, {
      timeoutMs: 20_000,
      what: "3 delivered batches",
    });
    t.proxy.holdNext();
    await waitFor(() => ours().some((r) => r.held), { timeoutMs: 20_000, what: "a batch in flight, held" });
    const held = ours().find((r) => r.held)!;
    const heldIds = rowIds(held.body);
    // More events committed after the held batch left: these are in the spool only.
    const durableAtHold = durableOf(writer);
    await waitFor(() => durableOf(writer) >= durableAtHold + 200, {
      timeoutMs: 20_000,
      what: "200 more events committed",
    });

    await killHard(writer);
    // Every event the child reported as committed before it died; it may have committed a few
    // more that it had no time to report: those may be delivered too, once.
    const acknowledged = durableOf(writer);
    const requestsBefore = t.proxy.requests.length;

    const restarted = spoolChild({}, { spool, table });
    await waitFor(async () => (await countBelow(acknowledged)) === acknowledged, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `all ${acknowledged} acknowledged events in Datasette`,
    });

    // Every acknowledged event once; nothing twice (a re-serialized event would show up as a second row).
    expect(await countBelow(acknowledged)).toBe(acknowledged);
    expect(
      await t.ds.query(
        `select json_extract(properties, '$.n') as n, count(*) as c from ${table} group by n having c > 1`,
      ),
    ).toEqual([]);
    // The batch that was in flight went again after the restart, and its rows are there once.
    const resent = t.proxy.requests
      .slice(requestsBefore)
      .filter((r) => r.status === 201)
      .flatMap((r) => rowIds(r.body));
    expect(resent).toEqual(expect.arrayContaining(heldIds));
    const heldRows = await t.ds.query(
      `select id from ${table} where id in (${heldIds.map((id) => `'${id}'`).join(",")})`,
    );
    expect(heldRows).toHaveLength(heldIds.length);

    restarted.process.kill("SIGTERM");
    expect(await restarted.exited).toBe(0);
  }, 120_000);
});
