/**
 * Benchmark 6: the durable spool (SQLite, group commit): put() cost and delivered events/s with
 * the spool on and off, to the counting sink. The spool is another helper's work; until
 * src/spool.ts exists this benchmark reports itself skipped.
 *
 * Hook: when the spool lands, set SPOOL_OPTIONS to the options that turn it on (an
 * unknown option name fails loudly with OptionError, so a wrong guess cannot pass silently).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pick, report } from "./lib/args.js";
import { eventsForward, type EventsForwardOptions } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./lib/payload.js";
import { startSink } from "./lib/processes.js";
import { fmt, median, printTable } from "./lib/stats.js";

const SPOOL_SOURCE = fileURLToPath(new URL("../src/spool.ts", import.meta.url));
/** The options that put the spool in a file of `dir`: fill in when src/spool.ts lands. */
const SPOOL_OPTIONS: ((dir: string) => EventsForwardOptions) | undefined = undefined;

if (!existsSync(SPOOL_SOURCE) || SPOOL_OPTIONS === undefined) {
  const why = existsSync(SPOOL_SOURCE) ? "src/spool.ts exists but bench/spool.ts has no SPOOL_OPTIONS yet" : "no spool in this checkout (src/spool.ts)";
  console.log(`\nspool: skipped (${why})`);
  report({ name: "spool", metrics: {}, targets: [], notes: [`skipped: ${why}`] });
  process.exit(0);
}
const spoolOptions: (dir: string) => EventsForwardOptions = SPOOL_OPTIONS;

const K = 500;
const samples = pick(100, 20);
const n = pick(100_000, 20_000);
const sink = await startSink();
const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-spool-"));
const input = (i: number) => ({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const rows: string[][] = [["spool", "median put ns/event", "delivered events/s"]];
const metrics: Record<string, number> = {};
try {
  for (const [label, extra] of [["off", {}], ["on", spoolOptions(dir)]] as const) {
    const base = { apiUrl: `${sink.url}/bench/-/create`, instance: "bench", batchLimit: 100, timePeriod: 0, maxQueueSize: n, maxQueueBytes: 1024 * 1024 * 1024, logger: quietLogger };
    const events = eventsForward({ ...base, ...extra });
    const costs: number[] = [];
    for (let s = 0; s < samples; s++) {
      const start = performance.now();
      for (let i = 0; i < K; i++) events.put(input(i));
      await turn();
      costs.push(((performance.now() - start) * 1e6) / K);
      await events.flush();
    }
    await sink.reset();
    const start = performance.now();
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + 1000);
      for (; i < end; i++) events.put(input(i));
      await turn();
    }
    await events.flush();
    await sink.waitFor(n, 60_000);
    const eps = (n / (performance.now() - start)) * 1000;
    await events.close();
    rows.push([label, fmt(median(costs)), fmt(eps)]);
    metrics[`put_ns_${label}`] = median(costs);
    metrics[`eps_${label}`] = eps;
  }
} finally {
  await sink.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nspool: ${samples} samples of ${K} puts; ${fmt(n)} events delivered per run`);
printTable(rows);
report({ name: "spool", metrics, targets: [] });
