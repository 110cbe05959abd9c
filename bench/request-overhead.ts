/**
 * Benchmark 1: what a request costs with events-forward, pino-http or morgan mounted, against
 * the bare app. Each variant runs in its own server process; autocannon drives the load from
 * this process. Every round runs every variant once, in a fresh random order; the score of a
 * variant is the median over rounds of (its req/s) / (bare req/s in the same round).
 */
import autocannon from "autocannon";
import { pick, report } from "./lib/args.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

const VARIANTS = ["bare", "events-forward", "pino-http", "morgan"] as const;
type Variant = (typeof VARIANTS)[number];
const FRAMEWORKS = ["express", "koa"] as const;

const rounds = pick(7, 2);
const seconds = pick(5, 1);
// Express takes a few seconds of load before the JIT has settled.
const warmupSeconds = pick(5, 2);
const connections = 10;

function load(port: number, duration: number): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}/`, connections, pipelining: 1, duration });
}

function requestsPerSecond(result: autocannon.Result): number {
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`load run failed: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  }
  return result.requests.total / result.duration;
}

function askStats(child: Child): Promise<{ sent: number; overflowed: number; dropped: number; handled: number } | null> {
  return new Promise((resolve) => {
    child.process.once("message", (message: { stats: never }) => resolve(message.stats));
    child.process.send("stats");
  });
}

// The store only reads what it is sent: its parsing is not the app's overhead.
const sink = await startSink("drain");
const metrics: Record<string, number> = {};
const targets: { label: string; met: boolean }[] = [];
const notes: string[] = [];

for (const framework of FRAMEWORKS) {
  const servers = new Map<Variant, Child>();
  for (const variant of VARIANTS) servers.set(variant, await forkWithPort("./app-server.ts", [framework, variant, sink.url]));
  const rps = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const ratios = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (const variant of VARIANTS) await load(servers.get(variant)!.port, warmupSeconds);
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<Variant, number>();
    for (const variant of shuffled(VARIANTS)) {
      thisRound.set(variant, requestsPerSecond(await load(servers.get(variant)!.port, seconds)));
    }
    for (const variant of VARIANTS) {
      rps.get(variant)!.push(thisRound.get(variant)!);
      ratios.get(variant)!.push(thisRound.get(variant)! / thisRound.get("bare")!);
    }
  }
  const stats = await askStats(servers.get("events-forward")!);
  for (const server of servers.values()) await server.stop();

  console.log(`\n${framework}: hello world, ${connections} connections, ${rounds} rounds of ${seconds} s per variant`);
  printTable([
    ["variant", "median req/s", "spread", "ratio to bare (median of rounds)"],
    ...VARIANTS.map((v) => [v, fmt(median(rps.get(v)!)), `${fmt(spread(rps.get(v)!) * 100)}%`, fmt(median(ratios.get(v)!), 3)]),
  ]);
  const ours = median(ratios.get("events-forward")!);
  const pinoRatio = median(ratios.get("pino-http")!);
  metrics[`${framework}.bare_rps`] = median(rps.get("bare")!);
  for (const v of VARIANTS) if (v !== "bare") metrics[`${framework}.${v}_ratio`] = median(ratios.get(v)!);
  targets.push({ label: `${framework}: events-forward >= 0.97 of bare (${fmt(ours, 3)})`, met: ours >= 0.97 });
  targets.push({ label: `${framework}: events-forward ahead of pino-http (${fmt(ours, 3)} vs ${fmt(pinoRatio, 3)})`, met: ours > pinoRatio });
  if (stats !== null) {
    // Two events per request (the request event and the handler's put) must all have reached the sink.
    const line = `${framework}: events-forward delivered ${fmt(stats.sent)} events for ${fmt(stats.handled)} requests, overflowed ${stats.overflowed}, dropped ${stats.dropped}`;
    console.log(line);
    notes.push(line);
    if (stats.sent !== stats.handled * 2 || stats.overflowed > 0 || stats.dropped > 0) throw new Error(`events were lost: ${line}`);
  }
}
await sink.stop();
report({ name: "request-overhead", metrics, targets, notes });
