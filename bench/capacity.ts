/**
 * Benchmark 7: the events per second the forwarder carries into a real Datasette at Datasette's own
 * default settings (max_insert_rows 100), for candidate defaults of batchLimit, maxRate and
 * timePeriod, through both URL kinds (`/-/create` and `/<table>/-/insert`), one request in flight.
 * The queue is kept topped up, so every batch can be full and the rate limit is what paces the
 * requests: the measured events/s against the theoretical capacity batchLimit × maxRate /
 * timePeriod says how much of it survives Datasette's latency and the timers. A candidate without a
 * rate limit (timePeriod 0) is Datasette's ceiling in the same round: how fast it takes batches of
 * 100 one after another, and so what share of its time a candidate occupies (the median over
 * rounds of the candidate's requests/s against the ceiling's in that round).
 * Every run ends by checking that the table holds each event put exactly once.
 */
import { DatasetteServer } from "../test/helpers/datasette.js";
import { ensureDatasetteVenv, installedDatasetteVersion } from "../test/helpers/datasette-venv.js";
import { pick, quick, report } from "./lib/args.js";
import { datasetteRowSerializer, DEFAULTS, eventsForward, SINK_DEFAULTS } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties } from "./lib/payload.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";
import { capacityPerSecond } from "../src/pipeline/backlog.js";

interface Candidate {
  batchLimit: number;
  maxRate: number;
  timePeriod: number;
}
const DATASETTE = { ...DEFAULTS, ...SINK_DEFAULTS.datasette };
const CANDIDATES: Candidate[] = [
  { batchLimit: 100, maxRate: 1, timePeriod: 0 }, // no rate limit: Datasette's ceiling
  { batchLimit: 100, maxRate: 10, timePeriod: 1 },
  { batchLimit: 50, maxRate: 20, timePeriod: 1 },
  { batchLimit: 100, maxRate: 20, timePeriod: 1 }, // the defaults
  { batchLimit: 100, maxRate: 50, timePeriod: 1 },
];
const chosen = CANDIDATES.find(
  (c) =>
    c.batchLimit === DATASETTE.batchLimit && c.maxRate === DATASETTE.maxRate && c.timePeriod === DATASETTE.timePeriod,
);
if (chosen === undefined) throw new Error("the Datasette defaults must be one of the candidates");
const KINDS = ["create", "insert"] as const;
// Many short rounds, every candidate once a round in a new order: the machine's load drifts less
// within a round than over the whole run, so ratios to the ceiling in the same round say more.
const WARM_MS = 1_000;
const WINDOW_MS = pick(4_000, 3_000);
const rounds = pick(5, 1);

if (quick && installedDatasetteVersion() === undefined) {
  console.log("\ncapacity: skipped (no .venv with Datasette 1.x: run `npm run setup:datasette`)");
  report({ name: "capacity", metrics: {}, targets: [], notes: ["skipped: no Datasette virtualenv"] });
  process.exit(0);
}
const version = await ensureDatasetteVenv();
// Datasette's own defaults: no --setting at all.
const server = await DatasetteServer.start({ database: "bench" });
const serialize = datasetteRowSerializer("bench");
const input = (i: number) => ({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });

const theoretical = (c: Candidate) => capacityPerSecond(c.batchLimit, c.maxRate, c.timePeriod);
const label = (c: Candidate) =>
  c.timePeriod === 0 ? `${c.batchLimit}, no rate limit` : `${c.batchLimit} × ${c.maxRate} / ${c.timePeriod} s`;

interface Measure {
  eventsPerSecond: number;
  requestsPerSecond: number;
  /** Datasette's answer time per request (the forwarder's debug log: "sent N event(s) in X ms"). */
  latencyMs: number[];
}

let tables = 0;
async function measure(kind: (typeof KINDS)[number], c: Candidate): Promise<Measure> {
  const table = `capacity_${++tables}`;
  let seeded = 0;
  if (kind === "insert") {
    // /-/insert needs the table: created with one row, as the package's /-/create would.
    await server.postJson(`/bench/-/create`, {
      table,
      pk: "id",
      ignore: true,
      rows: [JSON.parse(serialize(input(0), {}))],
    });
    seeded = 1;
  }
  let recording = false;
  const latencyMs: number[] = [];
  const logger = {
    warn(message: string) {
      console.log(`  (warn: ${message})`);
    },
    error(message: string) {
      throw new Error(`capacity run logged an error: ${message}`);
    },
    debug(message: string) {
      const sent = /^sent \d+ event\(s\) in (\d+) ms/.exec(message);
      if (sent && recording) latencyMs.push(Number(sent[1]));
    },
  };
  const events = eventsForward({
    apiUrl: kind === "create" ? server.createUrl : server.insertUrl(table),
    apiToken: server.rootToken,
    instance: "bench",
    table,
    requestEvents: false,
    ...c,
    maxQueueSize: 100_000,
    logger,
  });
  // Keep the queue topped up: the store, not the app, is what limits the run.
  let put = 0;
  const topUp = () => {
    while (events.stats().queued < c.batchLimit * 10) events.put(input(put++));
  };
  topUp();
  const refill = setInterval(topUp, 5);
  try {
    await new Promise((resolve) => setTimeout(resolve, WARM_MS));
    const before = events.stats();
    const start = performance.now();
    recording = true;
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    recording = false;
    const after = events.stats();
    const seconds = (performance.now() - start) / 1000;
    clearInterval(refill);
    await events.flush();
    const { sent, dropped, overflowed } = events.stats();
    if (sent !== put || dropped > 0 || overflowed > 0)
      throw new Error(`delivered ${sent} of ${put}, dropped ${dropped}, refused ${overflowed}`);
    const [row] = await server.query(`select count(*) as n, count(distinct id) as ids from ${table}`);
    if (Number(row!.n) !== put + seeded || Number(row!.ids) !== put + seeded)
      throw new Error(`${table} holds ${row!.n} rows (${row!.ids} ids), expected ${put + seeded}`);
    return {
      eventsPerSecond: (after.sent - before.sent) / seconds,
      requestsPerSecond: (after.requests - before.requests) / seconds,
      latencyMs,
    };
  } finally {
    clearInterval(refill);
    await events.close();
  }
}

const results = new Map<string, Measure[]>();
const key = (kind: string, c: Candidate) => `${kind} ${label(c)}`;
try {
  for (let round = 0; round < rounds; round++) {
    const runs = shuffled(KINDS.flatMap((kind) => CANDIDATES.map((c) => [kind, c] as const)));
    for (const [kind, c] of runs) {
      const m = await measure(kind, c);
      results.set(key(kind, c), [...(results.get(key(kind, c)) ?? []), m]);
    }
  }
} finally {
  await server.dispose();
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;
const metrics: Record<string, number> = {};
/** Per round: events/s against the most one request in flight could carry then, min(capacity, Datasette's ceiling in that round). */
const reachable = new Map<string, number>();
console.log(
  `\ninto Datasette ${version} at its default settings (max_insert_rows 100), one request in flight, ${rounds} round(s) of ${WINDOW_MS / 1000} s each`,
);
for (const kind of KINDS) {
  const ceiling = results.get(key(kind, CANDIDATES[0]!))!;
  const rows = [
    [
      "batchLimit × maxRate / timePeriod",
      "capacity",
      "events/s",
      "of capacity",
      "of reachable",
      "requests/s",
      "of ceiling's",
      "latency median",
      "p95",
    ],
  ];
  for (const c of CANDIDATES) {
    const ms = results.get(key(kind, c))!;
    const eps = median(ms.map((m) => m.eventsPerSecond));
    const rps = median(ms.map((m) => m.requestsPerSecond));
    const latency = ms.flatMap((m) => m.latencyMs);
    const cap = theoretical(c);
    const ofReachable = median(
      ms.map((m, round) => m.eventsPerSecond / Math.min(cap, ceiling[round]!.eventsPerSecond)),
    );
    reachable.set(key(kind, c), ofReachable);
    rows.push([
      label(c),
      Number.isFinite(cap) ? fmt(cap) : "-",
      fmt(eps),
      Number.isFinite(cap) ? fmt(eps / cap, 3) : "-",
      fmt(ofReachable, 3),
      fmt(rps, 1),
      fmt(median(ms.map((m, round) => m.requestsPerSecond / ceiling[round]!.requestsPerSecond)), 3),
      `${fmt(median(latency), 1)} ms`,
      `${fmt(percentile(latency, 0.95))} ms`,
    ]);
    const name = `${kind}_${c.batchLimit}x${c.maxRate}/${c.timePeriod}`;
    metrics[`${name}_eps`] = eps;
    if (Number.isFinite(cap)) metrics[`${name}_share`] = eps / cap;
  }
  console.log(`\n${kind === "create" ? "/-/create" : "/<table>/-/insert"}`);
  printTable(rows);
}

// The defaults (src/config/defaults.ts) must carry 1,000 events/s, and lose nothing to their rate
// limit when Datasette is the slower of the two (a loaded machine).
report({
  name: "capacity",
  metrics,
  targets: KINDS.flatMap((kind) => {
    const eps = results.get(key(kind, chosen))!.map((m) => m.eventsPerSecond);
    const share = reachable.get(key(kind, chosen))!;
    return [
      {
        label: `the defaults (${label(chosen)}) carry >= 1,000 events/s via /-/${kind} (${fmt(median(eps))})`,
        met: median(eps) >= 1_000,
      },
      {
        label: `the defaults via /-/${kind} reach >= 0.9 of min(capacity, Datasette's ceiling) in the same round (${fmt(share, 3)})`,
        met: share >= 0.9,
      },
    ];
  }),
});
