/**
 * What the durable spool costs a put(): the latency a request handler sees (median and p99 of
 * single puts) and the CPU per event including the commits, for the memory queue (baseline) and
 * the spool with group commit (5 ms window, the default), with a commit per put (groupCommitMs 0),
 * and with synchronous "full" (an fsync per commit). Prints ratios against the baseline measured
 * in the same run. The spool variants only write (publisher: false), so no delivery competes;
 * the baseline's store is unreachable, so its events only queue.
 *
 *   node --import tsx bench/spool-put.ts [--events N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { eventsForward, type EventsForwardOptions } from "../src/index.js";

const { values } = parseArgs({ options: { events: { type: "string", default: "20000" } } });
const N = Number(values.events);
const PER_TURN = 100;
const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-spool-"));

const variants: Array<[string, EventsForwardOptions]> = [
  ["memory queue (baseline)", { apiUrl: "http://127.0.0.1:9/bench/-/create", timePeriod: 3600, maxQueueSize: N + 1_000 }],
  ["spool, group commit 5 ms", { spool: { path: join(dir, "group.db") }, publisher: false }],
  ["spool, commit per put", { spool: { path: join(dir, "each.db"), groupCommitMs: 0 }, publisher: false }],
  ["spool, group commit, fsync", { spool: { path: join(dir, "full.db"), synchronous: "full" }, publisher: false }],
];

const input = (i: number) => ({ event: "bench", actorId: "user-1", properties: { i, path: "/checkout", plan: "pro" } });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Result {
  name: string;
  p50: number;
  p99: number;
  cpu: number;
}

async function measure(name: string, options: EventsForwardOptions): Promise<Result> {
  const events = eventsForward({ instance: "bench", logger: false, requestEvents: false, ...options });
  for (let i = 0; i < 2_000; i++) events.put(input(i)); // warm up
  await events.flush();
  const latencies = new Float64Array(N);
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < N; ) {
    const end = Math.min(N, i + PER_TURN);
    for (; i < end; i++) {
      const start = process.hrtime.bigint();
      events.put(input(i));
      latencies[i] = Number(process.hrtime.bigint() - start);
    }
    await turn(); // let the group commit timer run between bursts, as in an app
  }
  await events.flush(); // the last group commits: its cost counts too
  const cpu = process.cpuUsage(cpuBefore);
  await events.close({ timeoutMs: 100 });
  latencies.sort();
  return { name, p50: latencies[Math.floor(N / 2)]!, p99: latencies[Math.floor(N * 0.99)]!, cpu: ((cpu.user + cpu.system) * 1000) / N };
}

try {
  const results: Result[] = [];
  for (const [name, options] of variants) results.push(await measure(name, options));
  const base = results[0]!;
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.p50)} ns`,
    `${fmt(r.p99)} ns`,
    `${fmt(r.cpu)} ns`,
    `x${(r.p50 / base.p50).toFixed(1)}`,
    `x${(r.p99 / base.p99).toFixed(1)}`,
    `x${(r.cpu / base.cpu).toFixed(1)}`,
  ]);
  console.log(`put() cost, ${N} events in bursts of ${PER_TURN} (node ${process.version}):`);
  printTable([["variant", "put p50", "put p99", "CPU/event", "p50 ratio", "p99 ratio", "CPU ratio"], ...rows]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
}
