/**
 * What the durable spool costs a put(): the latency a request handler sees (median and p99 of
 * single puts), and the CPU and wall-clock time per event including the commits (the wall time
 * also counts the event loop blocked in a commit's fsync), for the memory queue (baseline) and
 * the spool with group commit (5 ms window, the default), with a commit per put (groupCommitMs 0),
 * and with synchronous "full" (an fsync per commit). Prints ratios against the baseline measured
 * in the same run. The spool variants only write (publisher: false), so no delivery competes;
 * the baseline's store is unreachable, so its events only queue.
 *
 * Each round runs every variant once, in a shuffled order (so JIT warm-up and a busy machine favour
 * none); the table shows each variant's median over the rounds.
 *
 *   node --import tsx bench/spool-put.ts [--events N] [--rounds R]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { eventsForward, type EventsForwardOptions } from "../src/index.js";
import { datasetteRowCheck } from "../src/row/row-check.js";

const { values } = parseArgs({
  options: { events: { type: "string", default: "20000" }, rounds: { type: "string", default: "3" } },
});
const N = Number(values.events);
const ROUNDS = Number(values.rounds);
const PER_TURN = 100;
const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-spool-"));

const variants: Array<[string, (round: number) => EventsForwardOptions]> = [
  [
    "memory queue (baseline)",
    () => ({ apiUrl: "http://127.0.0.1:9/bench/-/create", timePeriod: 3600, maxQueueSize: N + 10_000 }),
  ],
  ["spool, group commit 5 ms", (r) => ({ spool: { path: join(dir, `group-${r}.db`) }, publisher: false })],
  [
    "spool, commit per put",
    (r) => ({ spool: { path: join(dir, `each-${r}.db`), groupCommitMs: 0 }, publisher: false }),
  ],
  [
    "spool, group commit, fsync",
    (r) => ({ spool: { path: join(dir, `full-${r}.db`), synchronous: "full" }, publisher: false }),
  ],
];

const input = (i: number) => ({ event: "bench", actorId: "user-1", properties: { i, path: "/checkout", plan: "pro" } });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Result {
  name: string;
  p50: number;
  p99: number;
  cpu: number;
  wall: number;
}

async function measure(name: string, options: EventsForwardOptions): Promise<Result> {
  const events = eventsForward({ instance: "bench", logger: false, requestEvents: false, ...options });
  // flush() commits a spool's group; the baseline's store is unreachable, so it has nothing to do.
  const commit = () => (options.spool === undefined ? Promise.resolve() : events.flush());
  for (let i = 0; i < 2_000; i++) events.put(input(i)); // warm up
  await commit();
  const latencies = new Float64Array(N);
  const cpuBefore = process.cpuUsage();
  const wallStart = performance.now();
  for (let i = 0; i < N;) {
    const end = Math.min(N, i + PER_TURN);
    for (; i < end; i++) {
      const start = process.hrtime.bigint();
      events.put(input(i));
      latencies[i] = Number(process.hrtime.bigint() - start);
    }
    await turn(); // let the group commit timer run between bursts, as in an app
  }
  await commit(); // the last group commits: its cost counts too
  const cpu = process.cpuUsage(cpuBefore);
  const wall = ((performance.now() - wallStart) * 1e6) / N;
  await events.close({ timeoutMs: 100 });
  latencies.sort();
  return {
    name,
    p50: latencies[Math.floor(N / 2)]!,
    p99: latencies[Math.floor(N * 0.99)]!,
    cpu: ((cpu.user + cpu.system) * 1000) / N,
    wall,
  };
}

// The forwarder's timers are unref'd; this keeps the benchmark alive while it awaits them.
const keepAlive = setInterval(() => {}, 1_000);
try {
  const runs = new Map<string, Result[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, options] of shuffled(variants)) runs.get(name)!.push(await measure(name, options(round)));
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const results = [...runs].map(([name, rs]) => ({
    name,
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    cpu: median(rs.map((r) => r.cpu)),
    wall: median(rs.map((r) => r.wall)),
  }));
  const base = results[0]!;
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.p50)} ns`,
    `${fmt(r.p99)} ns`,
    `${fmt(r.cpu)} ns`,
    `${fmt(r.wall)} ns`,
    `x${(r.p50 / base.p50).toFixed(1)}`,
    `x${(r.p99 / base.p99).toFixed(1)}`,
    `x${(r.cpu / base.cpu).toFixed(1)}`,
    `x${(r.wall / base.wall).toFixed(1)}`,
  ]);
  console.log(
    `put() cost, ${N} events in bursts of ${PER_TURN}, median of ${ROUNDS} rounds (node ${process.version}):`,
  );
  printTable([
    ["variant", "put p50", "put p99", "CPU/event", "wall/event", "p50 ratio", "p99 ratio", "CPU ratio", "wall ratio"],
    ...rows,
  ]);
  await checkCost();
} finally {
  clearInterval(keepAlive);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What the publisher pays to check each row it reads back from a spool before the row joins a
 * body (issue 28: a row must be one JSON object of the row's shape), beside what reading the row
 * from the spool file costs it anyway. Median of ROUNDS passes over N rows.
 */
async function checkCost(): Promise<void> {
  const path = join(dir, "check.db");
  const writer = eventsForward({
    instance: "bench",
    logger: false,
    requestEvents: false,
    spool: { path },
    publisher: false,
  });
  for (let i = 0; i < N; i++) writer.put(input(i));
  await writer.close();
  const db = new Database(path, { readonly: true });
  const select = db.prepare("SELECT seq, json, bytes FROM outbox ORDER BY seq");
  const reads: number[] = [];
  const checks: number[] = [];
  let refused = 0;
  for (let round = 0; round < Math.max(ROUNDS, 3); round++) {
    let start = process.hrtime.bigint();
    const rows = select.all() as { json: string }[];
    reads.push(Number(process.hrtime.bigint() - start) / rows.length);
    start = process.hrtime.bigint();
    for (const row of rows) if (datasetteRowCheck(row.json) !== undefined) refused++;
    checks.push(Number(process.hrtime.bigint() - start) / rows.length);
  }
  db.close();
  if (refused > 0) throw new Error(`${refused} of the spool's own rows were refused`);
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nchecking rows read back from the spool (${N} rows, median of ${checks.length} passes):`);
  printTable([
    ["step", "ns/row", "ratio"],
    ["read from the spool file (SELECT)", fmt(median(reads)), "x1.0"],
    [
      "check: one JSON object of the row's shape",
      fmt(median(checks)),
      `x${(median(checks) / median(reads)).toFixed(2)}`,
    ],
  ]);
}

function shuffled<T>(items: T[]): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows)
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
}
