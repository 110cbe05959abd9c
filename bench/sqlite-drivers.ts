/**
 * The SQLite spool on each SQLite driver this Node has (better-sqlite3, node:sqlite: chosen with
 * EVENTS_FORWARD_SQLITE_DRIVER before each forwarder starts), side by side with the memory queue
 * (baseline), in one run:
 *
 * 1. put(): p50 and p99 of single puts, CPU per event including the commits, writers only;
 * 2. forwarding throughput with the rate limit lifted, into a counting store in another process
 * (both as bench/lib/queue-runs.ts makes them, the same runs as bench/redis-spool.ts).
 *
 * Each round runs every variant once in a shuffled order; the tables show medians over rounds.
 * Run it on each Node line (.ci/node-line builds better-sqlite3 for it):
 *   node --import tsx bench/sqlite-drivers.ts [--quick]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventsForwardOptions } from "./lib/package.js";
import { pick, report } from "./lib/args.js";
import { startSink } from "./lib/processes.js";
import { BATCH, measurePut, measureThroughput, PER_TURN, type PutResult } from "./lib/queue-runs.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";
import { SQLITE_DRIVER_ENV } from "../src/core/sqlite-choice.js";
import { loadableSqliteDrivers } from "../test/helpers/sqlite-drivers.js";
import type { SqliteDriverName } from "../src/core/sqlite-driver.js";

const PUTS = pick(50_000, 10_000);
const FORWARDED = pick(200_000, 20_000);
const ROUNDS = pick(3, 1);

const DRIVERS = loadableSqliteDrivers(["better-sqlite3", "node:sqlite"] as const);
const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-drivers-"));
const sink = await startSink("store");
let spoolNumber = 0;
const BASE = "memory queue (baseline)";
const VARIANTS = [BASE, ...DRIVERS.map((d) => `SQLite spool, ${d}`)];
/** The variant's driver (set in the environment before its forwarder opens the spool) and a fresh spool. */
function setUp(variant: string): EventsForwardOptions["spool"] {
  if (variant === BASE) return undefined;
  process.env[SQLITE_DRIVER_ENV] = variant.slice("SQLite spool, ".length) as SqliteDriverName;
  return { path: join(dir, `spool-${++spoolNumber}.db`), maxEvents: 1_000_000_000 };
}
const throughput = (variant: string) => measureThroughput(setUp(variant), sink, FORWARDED, variant);

// The forwarder's timers are unref'd; this keeps the benchmark alive while it awaits them.
const keepAlive = setInterval(() => {}, 1_000);
try {
  const puts = new Map<string, PutResult[]>(VARIANTS.map((v) => [v, []]));
  const rates = new Map<string, number[]>(VARIANTS.map((v) => [v, []]));
  for (const variant of VARIANTS) await throughput(variant); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of shuffled(VARIANTS)) puts.get(variant)!.push(await measurePut(setUp(variant), PUTS));
    for (const variant of shuffled(VARIANTS)) rates.get(variant)!.push(await throughput(variant));
  }
  const put = (v: string, key: keyof PutResult) => median(puts.get(v)!.map((r) => r[key]));
  const rate = (v: string) => median(rates.get(v)!);
  console.log(
    `\nput() cost, ${fmt(PUTS)} puts in bursts of ${PER_TURN}, writers only, median of ${ROUNDS} round(s) (node ${process.version}):`,
  );
  printTable([
    ["queue", "put p50", "put p99", "CPU/event", "p50 ratio", "p99 ratio", "CPU ratio"],
    ...VARIANTS.map((v) => [
      v,
      `${fmt(put(v, "p50"))} ns`,
      `${fmt(put(v, "p99"))} ns`,
      `${fmt(put(v, "cpu"))} ns`,
      `x${fmt(put(v, "p50") / put(BASE, "p50"), 2)}`,
      `x${fmt(put(v, "p99") / put(BASE, "p99"), 2)}`,
      `x${fmt(put(v, "cpu") / put(BASE, "cpu"), 2)}`,
    ]),
  ]);
  console.log(
    `\nforwarding throughput, ${fmt(FORWARDED)} events a run, rate limit lifted, batches of ${fmt(BATCH)}, into a counting store:`,
  );
  printTable([
    ["queue", "median events/s", "ratio"],
    ...VARIANTS.map((v) => [v, fmt(rate(v)), `x${fmt(rate(v) / rate(BASE), 2)}`]),
  ]);
  const metrics: Record<string, number> = {};
  for (const d of DRIVERS) {
    metrics[`${d}_put_p50_ns`] = put(`SQLite spool, ${d}`, "p50");
    metrics[`${d}_eps`] = rate(`SQLite spool, ${d}`);
  }
  const notes: string[] = [];
  if (DRIVERS.length === 2) {
    const [b, n] = DRIVERS.map((d) => `SQLite spool, ${d}`) as [string, string];
    notes.push(
      `node:sqlite / better-sqlite3: put p50 x${fmt(put(n, "p50") / put(b, "p50"), 2)}, CPU/event x${fmt(put(n, "cpu") / put(b, "cpu"), 2)}, events/s x${fmt(rate(n) / rate(b), 2)}`,
    );
    console.log(`\n${notes[0]}`);
  }
  report({ name: "sqlite-drivers", metrics, targets: [], notes });
} finally {
  clearInterval(keepAlive);
  await sink.stop();
  rmSync(dir, { recursive: true, force: true });
}
