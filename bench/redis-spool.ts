/**
 * What the Redis spool costs, side by side with the memory queue (baseline) and the SQLite spool
 * in one run, against a real redis-server on loopback started here:
 *
 * 1. put(): the latency a request handler sees (p50 and p99 of single puts) and the CPU per event
 *    including the commits (group commit, 5 ms window), for processes that only write
 *    (publisher: false). For Redis, the server's own CPU per event too (from /proc). Puts come
 *    in bursts of 100 a turn of the event loop, pausing while more than 5,000 are buffered.
 * 2. Forwarding throughput with the rate limit lifted: events/s from the first put to flush()
 *    reporting all delivered, through each queue, into a counting store in another process
 *    (bench/lib/sink-server.ts, which checks every event arrived). The producer puts 1,000
 *    events a turn of the event loop and waits while more than 5,000 are buffered (not yet
 *    committed), the same loop for every queue.
 *
 * Each round runs every variant once in a shuffled order; the tables show medians over rounds.
 *   node --import tsx bench/redis-spool.ts [--quick]
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventsForwardOptions } from "./lib/package.js";
import { pick, report } from "./lib/args.js";
import { startSink } from "./lib/processes.js";
import { BATCH, measurePut, measureThroughput, PER_TURN, type PutResult } from "./lib/queue-runs.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";
import { RedisServer } from "../test/helpers/redis-server.js";

const PUTS = pick(50_000, 10_000);
const FORWARDED = pick(200_000, 20_000);
const ROUNDS = pick(3, 1);

const dir = mkdtempSync(join(tmpdir(), "events-forward-bench-redis-"));
const redis = await RedisServer.start();
const sink = await startSink("store");
let spoolNumber = 0;
/** A fresh spool per measurement, so none starts with another's backlog. */
const spools: Record<string, () => EventsForwardOptions["spool"]> = {
  "memory queue (baseline)": () => undefined,
  "SQLite spool": () => ({ path: join(dir, `spool-${++spoolNumber}.db`), maxEvents: 1_000_000_000 }),
  "Redis spool": () => ({ url: redis.url, key: `bench-${++spoolNumber}`, maxEvents: 1_000_000_000 }),
};
const VARIANTS = Object.keys(spools);
interface RedisPutResult extends PutResult {
  serverCpu: number;
}

async function putRun(variant: string): Promise<RedisPutResult> {
  const spool = spools[variant]!();
  const isRedis = typeof spool === "object" && "url" in spool;
  const marks: number[] = [];
  const result = await measurePut(spool, PUTS, () => marks.push(redisCpuMs()));
  return { ...result, serverCpu: isRedis ? ((marks[1]! - marks[0]!) * 1e6) / PUTS : 0 };
}

const throughput = (variant: string) => measureThroughput(spools[variant]!(), sink, FORWARDED, variant);

/** redis-server's user + system CPU time so far, in ms (Linux /proc; 0 elsewhere). */
function redisCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/${redis.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return 0;
  }
}

// The forwarder's timers are unref'd; this keeps the benchmark alive while it awaits them.
const keepAlive = setInterval(() => {}, 1_000);
try {
  const puts = new Map<string, RedisPutResult[]>(VARIANTS.map((v) => [v, []]));
  const rates = new Map<string, number[]>(VARIANTS.map((v) => [v, []]));
  for (const variant of VARIANTS) await throughput(variant); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of shuffled(VARIANTS)) puts.get(variant)!.push(await putRun(variant));
    for (const variant of shuffled(VARIANTS)) rates.get(variant)!.push(await throughput(variant));
  }
  const put = (v: string, key: keyof RedisPutResult) => median(puts.get(v)!.map((r) => r[key]));
  const rate = (v: string) => median(rates.get(v)!);
  const base = VARIANTS[0]!;
  console.log(
    `\nput() cost, ${fmt(PUTS)} puts in bursts of ${PER_TURN}, writers only, median of ${ROUNDS} round(s) (node ${process.version}):`,
  );
  printTable([
    ["queue", "put p50", "put p99", "CPU/event", "redis-server CPU/event", "p50 ratio", "p99 ratio", "CPU ratio"],
    ...VARIANTS.map((v) => [
      v,
      `${fmt(put(v, "p50"))} ns`,
      `${fmt(put(v, "p99"))} ns`,
      `${fmt(put(v, "cpu"))} ns`,
      v === "Redis spool" ? `${fmt(put(v, "serverCpu"))} ns` : "",
      `x${fmt(put(v, "p50") / put(base, "p50"), 2)}`,
      `x${fmt(put(v, "p99") / put(base, "p99"), 2)}`,
      `x${fmt(put(v, "cpu") / put(base, "cpu"), 2)}`,
    ]),
  ]);
  console.log(
    `\nforwarding throughput, ${fmt(FORWARDED)} events a run, rate limit lifted, batches of ${fmt(BATCH)}, into a counting store:`,
  );
  printTable([
    ["queue", "median events/s", "ratio"],
    ...VARIANTS.map((v) => [v, fmt(rate(v)), `x${fmt(rate(v) / rate(base), 2)}`]),
  ]);
  const p50Ratio = put("Redis spool", "p50") / put(base, "p50");
  const redisRate = rate("Redis spool");
  report({
    name: "redis-spool",
    metrics: {
      redis_put_p50_ns: put("Redis spool", "p50"),
      memory_put_p50_ns: put(base, "p50"),
      redis_eps: redisRate,
      sqlite_eps: rate("SQLite spool"),
      memory_eps: rate(base),
    },
    targets: [
      { label: `Redis spool put() p50 within 1.5x of the memory queue (x${fmt(p50Ratio, 2)})`, met: p50Ratio <= 1.5 },
      { label: `>= 50,000 events/s through the Redis spool (${fmt(redisRate)})`, met: redisRate >= 50_000 },
    ],
  });
} finally {
  clearInterval(keepAlive);
  await sink.stop();
  await redis.dispose();
  rmSync(dir, { recursive: true, force: true });
}
