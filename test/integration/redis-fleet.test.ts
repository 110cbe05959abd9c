import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killHard, startChild, type Child } from "../helpers/child.js";
import { ARRIVAL_JITTER_MS, useProxiedDatasette } from "../helpers/recording-proxy.js";
import { useRedisServer } from "../helpers/servers.js";
import { startFleetSidecar } from "../helpers/fleet-sidecar.js";
import { watchRateWindow } from "../helpers/rate-window-log.js";
import { assertRate } from "../helpers/request-starts.js";
import { waitFor } from "../helpers/wait.js";

const CHILD = join(import.meta.dirname, "../fixtures/spool-child.ts");
/** Two "hosts" (instance names), two processes each. */
const GROUPS = [
  ["host-a", ["a0", "a1"]],
  ["host-b", ["b0", "b1"]],
] as const;
const PER_PROCESS = 150;
const TOTAL = 4 * PER_PROCESS;
const MAX_RATE = 4;
const PERIOD_MS = 1_000;
const PASSWORD = "fleet-Secret-9";
const t = useProxiedDatasette();
const redis = useRedisServer({ appendonly: true, password: PASSWORD });

const watchers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) await watcher.stop();
});

const holderPid = async () => {
  const value = await redis.server.cli("GET", "{fleet}:lease");
  return value === "" ? 0 : (JSON.parse(value) as { pid: number }).pid;
};

describe("a fleet on two hosts and a sidecar sharing one Redis spool", () => {
  it("delivers every event exactly once, one request at a time, within the fleet-wide rate limit, when the publisher is killed mid-run", async () => {
    const spool = { url: redis.server.url, key: "fleet", leaseMs: 1_000, pollMs: 20 };
    const apiUrl = `${t.proxy.url}/data/-/create`;
    const rate = { batchLimit: 50, maxRate: MAX_RATE, timePeriod: PERIOD_MS / 1000 };
    const grants = await watchRateWindow(redis.server.url, "fleet");
    watchers.push(grants);
    // Every app process competes for the lease too (publisher defaults to true).
    const apps = GROUPS.flatMap(([instance, labels]) =>
      labels.map((label) =>
        startChild(CHILD, [], {
          SPOOL_CHILD_LABEL: label,
          SPOOL_CHILD_PUT: String(PER_PROCESS),
          SPOOL_CHILD_PER_TURN: "1",
          SPOOL_CHILD_OPTIONS: JSON.stringify({ spool, apiUrl, apiToken: t.ds.rootToken, instance, ...rate }),
        }),
      ),
    );
    t.children.push(...apps);
    const target = ["spool = ${FLEET_REDIS_URL}", "spool.key = fleet"];
    const sidecar = startFleetSidecar(t, { target, spool, rate, env: { FLEET_REDIS_URL: redis.server.url } });

    // On a loaded machine, starting five processes under tsx takes a while.
    for (const app of apps) await app.message((m) => m.ready !== undefined, "ready", 60_000);
    // Mid-run: some rows are in, the holder is sending; kill it.
    await waitFor(() => t.proxy.requests.filter((r) => r.status === 201).length >= 3, {
      timeoutMs: 60_000,
      what: "3 delivered batches",
    });
    const pid = await holderPid();
    const holder = [...apps, sidecar].find((child) => child.pid === pid);
    expect(holder).toBeDefined();
    await killHard(holder!);
    const survivors = [...apps, sidecar].filter((child) => child !== holder);
    await waitFor(async () => ![0, pid].includes(await holderPid()), {
      timeoutMs: 5_000,
      what: "another process to take the lease",
    });

    // Every survivor's events arrive; of the killed one's, those it had committed (it may have
    // committed a few more than it managed to report).
    const labelOf = (child: Child) => GROUPS.flatMap(([, labels]) => labels)[apps.indexOf(child)];
    const committed =
      holder === sidecar
        ? 0
        : Math.max(0, ...holder!.messages.map((m) => (typeof m.durable === "number" ? m.durable : 0)));
    const want = new Map(apps.map((app) => [labelOf(app)!, app === holder ? committed : PER_PROCESS]));
    for (const app of apps.filter((a) => a !== holder))
      await app.message((m) => m.allPut === PER_PROCESS, "all put", 30_000);
    let rowsOf = await countRows();
    await waitFor(
      async () => {
        rowsOf = await countRows();
        return [...want].every(([label, n]) => (rowsOf.get(label)?.distinct ?? 0) >= n);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "every committed event in Datasette" },
    );

    for (const [label, n] of want) {
      const counted = rowsOf.get(label) ?? { rows: 0, distinct: 0 };
      expect(counted.rows).toBe(counted.distinct); // exactly once
      if (label !== labelOf(holder!)) expect(counted.rows).toBe(n);
      else expect(counted.rows).toBeGreaterThanOrEqual(n);
    }
    // Each process's rows name its host.
    for (const [instance, labels] of GROUPS)
      for (const label of labels) if (rowsOf.has(label)) expect(rowsOf.get(label)!.instance).toBe(instance);
    expect(t.proxy.requests.every((request) => request.status === 201)).toBe(true);
    expect(t.proxy.maxInFlight).toBe(1);
    // Sliding window over the whole fleet, across the change of holder: as the shared limiter
    // granted the requests (Redis's clock; every request had a grant), and as Datasette saw them.
    const starts = t.proxy.requests.map((request) => request.start).sort((a, b) => a - b);
    expect(starts.length).toBeGreaterThanOrEqual((TOTAL - PER_PROCESS) / rate.batchLimit);
    const granted = grants.starts();
    expect(granted.length).toBeGreaterThanOrEqual(starts.length);
    assertRate(granted, MAX_RATE, PERIOD_MS, 1);
    assertRate(starts, MAX_RATE, PERIOD_MS, ARRIVAL_JITTER_MS);

    for (const child of survivors) child.process.kill("SIGTERM");
    for (const child of survivors) expect(await child.exited).toBe(0);
    // The URL's password is in no process's output.
    for (const child of [...apps, sidecar]) expect(child.output()).not.toContain(PASSWORD);
  }, 180_000);
});

/** Per process (label): rows, distinct events, and the instance (host) they name. */
async function countRows(): Promise<Map<string, { rows: number; distinct: number; instance: string }>> {
  const rows = await t.ds
    .query(
      "select json_extract(properties, '$.label') as label, min(instance) as instance, count(*) as rows, " +
        "count(distinct json_extract(properties, '$.n')) as distinct_n from datasette_events group by label",
    )
    .catch(() => []);
  return new Map(
    rows.map((row) => [
      String(row.label),
      { rows: Number(row.rows), distinct: Number(row.distinct_n), instance: String(row.instance) },
    ]),
  );
}
