import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startChild } from "../helpers/child.js";
import { startFleetSidecar } from "../helpers/fleet-sidecar.js";
import { ARRIVAL_JITTER_MS, useProxiedDatasette } from "../helpers/recording-proxy.js";
import { watchSpoolRateWindow } from "../helpers/rate-window-log.js";
import { assertRate } from "../helpers/request-starts.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURES = join(import.meta.dirname, "../fixtures");
const WORKERS = 4;
const PER_WORKER = 150;
const TOTAL = WORKERS * PER_WORKER;
const MAX_RATE = 4;
const PERIOD_MS = 1_000;
const t = useProxiedDatasette();
const watchers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) await watcher.stop();
});

describe("four cluster workers and a sidecar sharing one spool", () => {
  it("deliver every event exactly once, one request at a time, within the fleet-wide rate limit", async () => {
    const spool = { path: join(t.ds.dir, "fleet-spool.db"), leaseMs: 1_000, pollMs: 20 };
    const apiUrl = `${t.proxy.url}/data/-/create`;
    const rate = { batchLimit: 50, maxRate: MAX_RATE, timePeriod: PERIOD_MS / 1000 };
    const grants = watchSpoolRateWindow(spool.path);
    watchers.push(grants);
    // The workers compete for the lease too (publisher defaults to true); whoever holds it sends.
    const fleet = startChild(join(FIXTURES, "cluster-app.ts"), [], {
      CLUSTER_WORKERS: String(WORKERS),
      SPOOL_CHILD_PUT: String(PER_WORKER),
      SPOOL_CHILD_PER_TURN: "3",
      SPOOL_CHILD_OPTIONS: JSON.stringify({ spool, apiUrl, apiToken: t.ds.rootToken, ...rate }),
    });
    t.children.push(fleet);
    const sidecar = startFleetSidecar(t, { target: [`spool = ${spool.path}`], spool, rate });

    for (let i = 0; i < WORKERS; i++)
      await fleet.message((m) => m.worker === i && m.allPut === PER_WORKER, `worker ${i} done putting`, 30_000);
    await waitFor(async () => (await countRows()).rows === TOTAL, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${TOTAL} rows in Datasette`,
    });

    expect(await countRows()).toEqual({ rows: TOTAL, distinct: TOTAL, workers: WORKERS });
    expect(t.proxy.requests.every((request) => request.status === 201)).toBe(true);
    expect(t.proxy.maxInFlight).toBe(1);
    // Sliding window over the whole fleet, as the shared limiter granted the requests (the lease
    // row's record; every request had a grant): request i+MAX_RATE starts a period after request i.
    const starts = t.proxy.requests.map((request) => request.start).sort((a, b) => a - b);
    expect(starts.length).toBeGreaterThanOrEqual(TOTAL / rate.batchLimit);
    const granted = grants.starts();
    expect(granted.length).toBeGreaterThanOrEqual(starts.length);
    assertRate(granted, MAX_RATE, PERIOD_MS, 1);
    // As Datasette saw them, with slack for the time a request takes to reach the proxy.
    const gaps = starts.slice(MAX_RATE).map((start, i) => start - starts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(PERIOD_MS - ARRIVAL_JITTER_MS);
    // The same over the whole run, where arrival jitter hardly counts: no more than MAX_RATE a period.
    const span = starts.at(-1)! - starts[0]!;
    expect(starts.length).toBeLessThanOrEqual(MAX_RATE * (Math.floor((span + ARRIVAL_JITTER_MS) / PERIOD_MS) + 1));

    sidecar.process.kill("SIGTERM");
    fleet.process.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
    expect(await fleet.exited).toBe(0);
    expect(sidecar.output()).toMatch(/SIGTERM: finishing the batch in flight[\s\S]*stopped: \d+ event\(s\) delivered/);
  }, 120_000);
});

async function countRows(): Promise<{ rows: number; distinct: number; workers: number }> {
  const [row] = await t.ds
    .query(
      "select count(*) as rows, count(distinct json_extract(properties, '$.label') || ':' || json_extract(properties, '$.n')) as distinct_events, " +
        "count(distinct json_extract(properties, '$.label')) as workers from datasette_events",
    )
    .catch(() => [{ rows: 0, distinct_events: 0, workers: 0 }]);
  return { rows: Number(row!.rows), distinct: Number(row!.distinct_events), workers: Number(row!.workers) };
}
