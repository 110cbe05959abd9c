/**
 * The dashboard's stored queries on a million-row table (`--quick`: 100,000) made by the package's
 * own row code (test/helpers/dashboard-rows.ts: seven days of requests and custom events, three
 * instances). Each query runs in Python's sqlite3, as Datasette runs it (the SQLite that Datasette
 * 0.65's virtualenv links), for the last hour, the last 24 hours and the whole table; median of
 * the rounds, in wall time and in CPU time (what it costs on an idle machine: the benchmark
 * machine is shared). Baselines: the same queries on a copy of the table without the dashboard's
 * indexes (a Datasette whose owner has not added them), and there, each query without the id
 * range (a scan that filters on `created` only), to show what the ULID primary key buys. Then the page itself: Datasette 0.65 serves it
 * with the printed command and Debian's chromium loads it (bytes over the wire, time until every
 * panel is drawn).
 *   node --import tsx bench/dashboard-queries.ts [--quick]
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { storedQueries } from "../src/dashboard/queries.js";
import { serveDashboard } from "../test/helpers/dashboard-datasette.js";
import { writeDashboardRows } from "../test/helpers/dashboard-rows.js";
import Database from "../test/helpers/sqlite-file.js";
import { DATASETTE_065_BIN, ensureDatasette065Venv, VENV_065_DIR } from "../test/helpers/datasette-venv.js";
import { pick, report } from "./lib/args.js";
import { fmt, printTable } from "./lib/stats.js";

const ROWS = pick(1_000_000, 100_000);
const ROUNDS = pick(3, 1);
/** The whole table: three rounds with the indexes (near the goal, on a shared machine), one without. */
const WHOLE_TABLE_ROUNDS = pick(3, 1);
const GOAL_MS = 1_000;
const RANGES = { "last hour": 1, "last 24 h": 24, "whole table (7 days)": 0 } as const;

await ensureDatasette065Venv();
const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-dashboard-"));
const dbPath = join(dir, "events.db");
const made = performance.now();
await writeDashboardRows(dbPath, "datasette_events", ROWS, 7 * 24);
console.log(`made ${fmt(ROWS)} rows in ${fmt((performance.now() - made) / 1000, 1)} s (${dbPath})`);
const noIndexPath = join(dir, "events-no-index.db");
copyFileSync(dbPath, noIndexPath);
const noIndex = new Database(noIndexPath);
noIndex.exec("DROP INDEX datasette_events_requests; DROP INDEX datasette_events_routes");
noIndex.close();

// Python: runs each query per range and prints {name: {range: [median wall ms, median CPU ms]}}.
// CPU time is what the query costs on an idle machine (SQLite runs it on one thread, the file in
// the page cache); wall time is what it took here, shared with whatever else ran.
const TIMER = `
import json, sqlite3, statistics, sys, time
job = json.load(sys.stdin)
db = sqlite3.connect(job["db"])
out = {}
for name, q in job["queries"].items():
    for label, params in job["ranges"].items():
        p = {k: params.get(k, "") for k in q["params"]}
        wall, cpu = [], []
        for _ in range(params["rounds"]):
            w, c = time.perf_counter(), time.process_time()
            db.execute(q["sql"], p).fetchall()
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        out.setdefault(name, {})[label] = [statistics.median(wall), statistics.median(cpu)]
print(json.dumps(out))
`;

type Times = Record<string, Record<string, [wall: number, cpu: number]>>;

function time(queries: Record<string, { sql: string; params: string[] }>, db = dbPath, wholeRounds = 1): Times {
  const now = Date.now();
  const ranges = Object.fromEntries(
    Object.entries(RANGES).map(([label, hours]) => [
      label,
      {
        from: hours === 0 ? "" : new Date(now - hours * 3_600_000).toISOString().slice(0, 19),
        request_id: "req-5",
        rounds: hours === 0 ? wholeRounds : ROUNDS,
      },
    ]),
  );
  const stdout = execFileSync(join(VENV_065_DIR, "bin", "python"), ["-c", TIMER], {
    input: JSON.stringify({ db, queries, ranges }),
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout) as Times;
}

const queries = storedQueries("datasette_events");
const withoutIndex = Object.fromEntries(
  Object.entries(queries).map(([name, q]) => [
    name,
    { ...q, sql: q.sql.replace("ON t.id >= span.lo_id AND t.id < span.hi_id", "ON 1") },
  ]),
);
const measured = time(queries, dbPath, WHOLE_TABLE_ROUNDS);
const unindexed = time(queries, noIndexPath);
const baseline = time(withoutIndex, noIndexPath);

const labels = Object.keys(RANGES);
console.log(
  `load average while timing: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(", ")} (2 cores)`,
);
printTable([
  ["query: ms wall / CPU", ...labels.flatMap((label) => [label, "no indexes: CPU", "scan ×"])],
  ...Object.keys(queries).map((name) => [
    name,
    ...labels.flatMap((label) => {
      const [wall, cpu] = measured[name]![label]!;
      const plain = unindexed[name]![label]![1];
      return [`${fmt(wall)} / ${fmt(cpu)}`, fmt(plain), `${fmt(baseline[name]![label]![1] / plain, 1)}`];
    }),
  ]),
]);

// The page: the printed command serves it; chromium loads it for the last hour and the last 24 h.
const ds = await serveDashboard(DATASETTE_065_BIN, dir);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--disable-background-networking"],
});
const pageLoads: Record<string, { ms: number; bytes: number; requests: number }> = {};
try {
  for (const range of ["1h", "24h"]) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const started = performance.now();
    await page.goto(`${ds.url}${ds.pagePath}?range=${range}`);
    await page.waitForFunction(
      () => {
        const panels = [...document.querySelectorAll<HTMLElement>("[data-panel]")];
        return panels.length > 0 && panels.every((p) => p.dataset.state === "ready" || p.dataset.state === "error");
      },
      null,
      { timeout: 300_000 },
    );
    const ms = performance.now() - started;
    const errors = await page.$$eval(".ef-error", (found) => found.map((e) => e.textContent));
    if (errors.length > 0) console.log(`range ${range}: panels with an error: ${errors.join("; ")}`);
    // What crossed the wire: the page, its static files and the stored queries' JSON (uncompressed:
    // Datasette sends neither gzip nor brotli).
    const { bytes, requests } = await page.evaluate(() => {
      const entries = [
        ...performance.getEntriesByType("navigation"),
        ...performance.getEntriesByType("resource"),
      ] as PerformanceResourceTiming[];
      return { bytes: entries.reduce((sum, e) => sum + e.transferSize, 0), requests: entries.length };
    });
    pageLoads[range] = { ms, bytes, requests };
    await page.close();
  }
} finally {
  await browser.close();
  await ds.stop();
  rmSync(dir, { recursive: true, force: true });
}
printTable([
  ["page load (Datasette 0.65)", "until drawn", "bytes", "requests"],
  ...Object.entries(pageLoads).map(([range, load]) => [
    `range ${range}`,
    `${fmt(load.ms)} ms`,
    fmt(load.bytes),
    String(load.requests),
  ]),
]);

/** The slowest query's CPU time for a range: its time on an idle machine. */
const slowest = (label: string) => Math.max(...Object.values(measured).map((byRange) => byRange[label]![1]));
const slowestWall = (label: string) => Math.max(...Object.values(measured).map((byRange) => byRange[label]![0]));
report({
  name: "dashboard-queries",
  metrics: {
    rows: ROWS,
    slowestLastHourMs: slowest("last hour"),
    slowestLast24hMs: slowest("last 24 h"),
    slowestWholeTableMs: slowest("whole table (7 days)"),
    slowestLast24hWallMs: slowestWall("last 24 h"),
    pageLoadMs: pageLoads["1h"]!.ms,
    pageBytes: pageLoads["1h"]!.bytes,
  },
  targets: [
    {
      label: `every stored query under ${GOAL_MS} ms CPU on ${fmt(ROWS)} rows, last hour (slowest ${fmt(slowest("last hour"))} ms)`,
      met: slowest("last hour") < GOAL_MS,
    },
    {
      label: `every stored query under ${GOAL_MS} ms CPU on ${fmt(ROWS)} rows, last 24 h (slowest ${fmt(slowest("last 24 h"))} ms, wall ${fmt(slowestWall("last 24 h"))} ms)`,
      met: slowest("last 24 h") < GOAL_MS,
    },
    {
      label: `every stored query under ${GOAL_MS} ms CPU on ${fmt(ROWS)} rows, whole table (slowest ${fmt(slowest("whole table (7 days)"))} ms)`,
      met: slowest("whole table (7 days)") < GOAL_MS,
    },
  ],
  notes: [
    `whole table (7 days): slowest query ${fmt(slowest("whole table (7 days)"))} ms CPU; without the dashboard's indexes ${fmt(Math.max(...Object.values(unindexed).map((byRange) => byRange["whole table (7 days)"]![1])))} ms`,
  ],
});
