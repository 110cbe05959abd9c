/**
 * Benchmark 1: what a request costs with events-forward, pino-http or morgan mounted, against
 * the bare app, on Express 4, Express 5 and Koa 3. Each variant runs in its own server process;
 * autocannon drives the load from this process. Every round runs every variant once, in a fresh
 * random order. The headline is the server CPU each variant adds to a request: the median over
 * rounds of (its CPU µs per request handled) - (the bare app's in the same round), which other
 * work on the machine disturbs less than throughput. Beside it, throughput: the median over
 * rounds of (its req/s) / (bare req/s in the same round).
 */
import { expressObjectsNeedDictionaryMode } from "../src/http/express-objects.js";
import { pick, quick, report } from "./lib/args.js";
import { ask, CONNECTIONS as connections, load, measure } from "./lib/load.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

// noop (a middleware that only calls next) reads how far the machine's noise moves a ratio: full runs only.
// dictionary (Express's req and res switched to dictionary mode, as events-forward does where V8
// needs it) is the baseline of events-forward's own cost on Express.
const ALL_VARIANTS = ["bare", "noop", "dictionary", "events-forward", "pino-http", "morgan"] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const FRAMEWORKS = ["express4", "express", "koa"] as const;
const TITLES: Record<Framework, string> = { express4: "Express 4", express: "Express 5", koa: "Koa 3" };
type Framework = (typeof FRAMEWORKS)[number];

function variantsFor(framework: Framework): readonly Variant[] {
  return ALL_VARIANTS.filter(
    (v) => (v !== "noop" || !quick) && (v !== "dictionary" || (framework !== "koa" && expressObjectsNeedDictionaryMode())),
  );
}

// Many short rounds: the machine drifts less within one round, so each ratio compares like with like.
const rounds = pick(30, 3);
const seconds = pick(1, 0.5);
// Express takes a few seconds of load before the JIT has settled.
const warmupSeconds = pick(5, 1);

type Stats = { stats: { sent: number; overflowed: number; dropped: number; handled: number } | null };

// The store only reads what it is sent: its parsing is not the app's overhead.
const sink = await startSink("drain");
const metrics: Record<string, number> = {};
const targets: { label: string; met: boolean }[] = [];
const notes: string[] = [];

for (const framework of FRAMEWORKS) {
  const VARIANTS = variantsFor(framework);
  await sink.reset();
  const started = await Promise.all(VARIANTS.map((variant) => forkWithPort("./app-server.ts", [framework, variant, sink.url])));
  const servers = new Map<Variant, Child>(VARIANTS.map((variant, i) => [variant, started[i]!]));
  const rps = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const ratios = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const cpu = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  /** Per round: the variant's CPU µs per request minus the bare app's (for events-forward on Express, also minus the dictionary app's). */
  const added = new Map<Variant | "own", number[]>([...VARIANTS, "own" as const].map((v) => [v, []]));
  for (const variant of VARIANTS) await load(servers.get(variant)!.port, warmupSeconds);
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<Variant, number>();
    const cpuThisRound = new Map<Variant, number>();
    for (const variant of shuffled(VARIANTS)) {
      const run = await measure(servers.get(variant)!, seconds);
      thisRound.set(variant, run.rps);
      cpuThisRound.set(variant, run.cpuPerRequest);
      cpu.get(variant)!.push(run.cpuPerRequest);
    }
    for (const variant of VARIANTS) {
      rps.get(variant)!.push(thisRound.get(variant)!);
      ratios.get(variant)!.push(thisRound.get(variant)! / thisRound.get("bare")!);
      added.get(variant)!.push(cpuThisRound.get(variant)! - cpuThisRound.get("bare")!);
    }
    const base = VARIANTS.includes("dictionary") ? "dictionary" : "bare";
    added.get("own")!.push(cpuThisRound.get("events-forward")! - cpuThisRound.get(base)!);
  }
  const { stats } = await ask<Stats>(servers.get("events-forward")!, "stats", "stats");
  const sunk = await sink.stats();
  for (const server of servers.values()) await server.stop();

  const bareCpu = median(cpu.get("bare")!);
  const addedCpu = (v: Variant | "own") => median(added.get(v)!);
  console.log(`\n${TITLES[framework]}: hello world, ${connections} connections, ${rounds} rounds of ${seconds} s per variant`);
  printTable([
    ["variant", "added CPU µs/req", "server CPU µs/req", "ratio to bare", "median req/s", "spread"],
    ...VARIANTS.map((v) => [
      v,
      v === "bare" ? "" : fmt(addedCpu(v), 1),
      fmt(median(cpu.get(v)!), 1),
      fmt(median(ratios.get(v)!), 3),
      fmt(median(rps.get(v)!)),
      `${fmt(spread(rps.get(v)!) * 100)}%`,
    ]),
  ]);
  metrics[`${framework}.bare_rps`] = median(rps.get("bare")!);
  metrics[`${framework}.bare_cpu_us`] = bareCpu;
  for (const v of VARIANTS) {
    metrics[`${framework}.${v}_cpu_us`] = median(cpu.get(v)!);
    if (v !== "bare") metrics[`${framework}.${v}_added_cpu_us`] = addedCpu(v);
    if (v !== "bare") metrics[`${framework}.${v}_ratio`] = median(ratios.get(v)!);
  }
  // events-forward's own cost: on Express where V8 needs the switch, against the app in dictionary mode
  // (the switch makes Express itself cheaper); elsewhere against bare.
  const dictionary = VARIANTS.includes("dictionary");
  const own = addedCpu("own");
  const ownRatio = dictionary
    ? median(ratios.get("events-forward")!.map((ratio, round) => ratio / ratios.get("dictionary")![round]!))
    : median(ratios.get("events-forward")!);
  const morganAdded = addedCpu("morgan");
  const peers = VARIANTS.filter((v) => v !== "bare" && v !== "events-forward" && v !== "dictionary");
  const headline =
    `${TITLES[framework]}: events-forward adds ${fmt(own, 1)} µs CPU a request${dictionary ? " (against the app in dictionary mode)" : ""}; ` +
    peers.map((v) => `${v} ${fmt(addedCpu(v), 1)} µs (events-forward is ${fmt(own / addedCpu(v), 2)}x)`).join(", ") +
    `; throughput ${fmt(ownRatio, 3)} of ${dictionary ? "the dictionary-mode app" : "bare"} (pino-http ${fmt(median(ratios.get("pino-http")!), 3)}, morgan ${fmt(median(ratios.get("morgan")!), 3)} of bare)`;
  console.log(headline);
  notes.push(headline);
  metrics[`${framework}.events-forward_own_cpu_us`] = own;
  metrics[`${framework}.events-forward_own_ratio`] = ownRatio;
  if (framework === "koa") {
    targets.push({ label: `${framework}: events-forward adds <= half of morgan's CPU (${fmt(own, 1)} vs ${fmt(morganAdded, 1)} µs)`, met: own <= morganAdded / 2 });
    targets.push({ label: `${framework}: events-forward >= 0.90 of bare throughput (${fmt(ownRatio, 3)})`, met: ownRatio >= 0.9 });
  } else {
    const against = dictionary ? "the bare app in dictionary mode" : "bare";
    targets.push({ label: `${framework}: events-forward >= 0.92 of ${against} (${fmt(ownRatio, 3)})`, met: ownRatio >= 0.92 });
    targets.push({ label: `${framework}: events-forward adds less CPU than morgan (${fmt(own, 1)} vs ${fmt(morganAdded, 1)} µs)`, met: own < morganAdded });
  }
  const ours = median(ratios.get("events-forward")!);
  const pinoRatio = median(ratios.get("pino-http")!);
  targets.push({ label: `${framework}: events-forward ahead of pino-http (${fmt(ours, 3)} vs ${fmt(pinoRatio, 3)})`, met: ours > pinoRatio });
  if (stats !== null) {
    // Two events per request (the request event and the handler's put) must all have reached the store.
    const line = `${framework}: events-forward delivered ${fmt(stats.sent)} events for ${fmt(stats.handled)} requests, in ${fmt(sunk.requests)} requests to the store, overflowed ${stats.overflowed}, dropped ${stats.dropped}`;
    console.log(line);
    notes.push(line);
    if (stats.sent !== stats.handled * 2 || stats.overflowed > 0 || stats.dropped > 0) throw new Error(`events were lost: ${line}`);
  }
}
await sink.stop();
report({ name: "request-overhead", metrics, targets, notes });
