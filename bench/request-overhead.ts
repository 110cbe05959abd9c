/**
 * Benchmark 1: what a request costs with events-forward, pino-http or morgan mounted, against
 * the bare app, on Express 4, Express 5 and Koa 3; on Fastify 5 against the bare app and Fastify's
 * own request logging (pino, one log line a request); on Hono 4 (@hono/node-server) against the
 * bare app. `--frameworks=fastify,hono` runs only those. Each variant runs in two server processes
 * (one with `--quick`): two processes of the same code differ by up to a third in CPU per request
 * on a small VM, for as long as they live, so one process per variant measures the process as
 * much as the code. autocannon drives the load from this process. Every round runs every process
 * once, in a fresh random order; a variant's figure in a round is the mean of its processes'. The
 * headline is the server CPU each variant adds to a request: the median over rounds of (its CPU
 * µs per request handled) - (the bare app's in the same round), which other work on the machine
 * disturbs less than throughput. Beside it, throughput: the median over rounds of (its req/s) /
 * (bare req/s in the same round).
 */
import { expressObjectsNeedDictionaryMode } from "../src/http/express-objects.js";
import { pick, quick, report } from "./lib/args.js";
import { ask, CONNECTIONS as connections, load, measure } from "./lib/load.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

// noop (a middleware that only calls next) reads how far the machine's noise moves a ratio: full runs only.
// dictionary (Express's req and res switched to dictionary mode, as events-forward does where V8
// needs it) is the baseline of events-forward's own cost on Express.
// fastify-logger is Fastify's own request logging (pino, as `logger: true`), the peer there.
const ALL_VARIANTS = ["bare", "noop", "dictionary", "events-forward", "pino-http", "morgan", "fastify-logger"] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const ALL_FRAMEWORKS = ["express4", "express", "koa", "fastify", "hono"] as const;
type Framework = (typeof ALL_FRAMEWORKS)[number];
const TITLES: Record<Framework, string> = {
  express4: "Express 4",
  express: "Express 5",
  koa: "Koa 3",
  fastify: "Fastify 5",
  hono: "Hono 4 (@hono/node-server)",
};
const chosenFrameworks = process.argv
  .find((arg) => arg.startsWith("--frameworks="))
  ?.slice("--frameworks=".length)
  .split(",");
const FRAMEWORKS = ALL_FRAMEWORKS.filter((f) => chosenFrameworks === undefined || chosenFrameworks.includes(f));
/** The request loggers each framework's users would mount instead. */
const PEERS: Record<Framework, readonly Variant[]> = {
  express4: ["pino-http", "morgan"],
  express: ["pino-http", "morgan"],
  koa: ["pino-http", "morgan"],
  fastify: ["fastify-logger"],
  hono: [],
};
const isExpress = (framework: Framework) => framework === "express" || framework === "express4";

function variantsFor(framework: Framework): readonly Variant[] {
  return ALL_VARIANTS.filter(
    (v) =>
      v === "bare" ||
      v === "events-forward" ||
      PEERS[framework].includes(v) ||
      (v === "noop" && !quick) ||
      (v === "dictionary" && isExpress(framework) && expressObjectsNeedDictionaryMode()),
  );
}

// Many short rounds: the machine drifts less within one round, so each ratio compares like with like.
const rounds = pick(16, 3);
const copies = pick(2, 1);
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
  const processes = VARIANTS.flatMap((variant) => Array.from({ length: copies }, () => variant));
  const started = await Promise.all(
    processes.map((variant) => forkWithPort("./app-server.ts", [framework, variant, sink.url])),
  );
  const servers = new Map<Variant, Child[]>(
    VARIANTS.map((variant) => [variant, started.filter((_, i) => processes[i] === variant)]),
  );
  const rps = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const ratios = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const cpu = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  /** Per round: the variant's CPU µs per request minus the bare app's (for events-forward on Express, also minus the dictionary app's). */
  const added = new Map<Variant | "own", number[]>([...VARIANTS, "own" as const].map((v) => [v, []]));
  for (const server of started) await load(server.port, warmupSeconds);
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<Variant, number>(VARIANTS.map((v) => [v, 0]));
    const cpuThisRound = new Map<Variant, number>(VARIANTS.map((v) => [v, 0]));
    for (const i of shuffled(started.map((_, i) => i))) {
      const run = await measure(started[i]!, seconds);
      const variant = processes[i]!;
      thisRound.set(variant, thisRound.get(variant)! + run.rps / copies);
      cpuThisRound.set(variant, cpuThisRound.get(variant)! + run.cpuPerRequest / copies);
    }
    for (const variant of VARIANTS) cpu.get(variant)!.push(cpuThisRound.get(variant)!);
    for (const variant of VARIANTS) {
      rps.get(variant)!.push(thisRound.get(variant)!);
      ratios.get(variant)!.push(thisRound.get(variant)! / thisRound.get("bare")!);
      added.get(variant)!.push(cpuThisRound.get(variant)! - cpuThisRound.get("bare")!);
    }
    const base = VARIANTS.includes("dictionary") ? "dictionary" : "bare";
    added.get("own")!.push(cpuThisRound.get("events-forward")! - cpuThisRound.get(base)!);
  }
  const stats = { sent: 0, overflowed: 0, dropped: 0, handled: 0 };
  for (const server of servers.get("events-forward")!) {
    const answer = (await ask<Stats>(server, "stats", "stats")).stats!;
    for (const key of ["sent", "overflowed", "dropped", "handled"] as const) stats[key] += answer[key];
  }
  const sunk = await sink.stats();
  for (const server of started) await server.stop();

  const bareCpu = median(cpu.get("bare")!);
  const addedCpu = (v: Variant | "own") => median(added.get(v)!);
  console.log(
    `\n${TITLES[framework]}: hello world, ${connections} connections, ${rounds} rounds of ${seconds} s per process, ${copies} processes per variant`,
  );
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
  const peers = VARIANTS.filter((v) => v !== "bare" && v !== "events-forward" && v !== "dictionary");
  const headline =
    `${TITLES[framework]}: events-forward adds ${fmt(own, 1)} µs CPU a request${dictionary ? " (against the app in dictionary mode)" : ""}` +
    peers.map((v) => `; ${v} ${fmt(addedCpu(v), 1)} µs (events-forward is ${fmt(own / addedCpu(v), 2)}x)`).join("") +
    `; throughput ${fmt(ownRatio, 3)} of ${dictionary ? "the dictionary-mode app" : "bare"}` +
    (PEERS[framework].length > 0
      ? ` (${PEERS[framework].map((v) => `${v} ${fmt(median(ratios.get(v)!), 3)}`).join(", ")} of bare)`
      : "");
  console.log(headline);
  notes.push(headline);
  metrics[`${framework}.events-forward_own_cpu_us`] = own;
  metrics[`${framework}.events-forward_own_ratio`] = ownRatio;
  if (framework === "koa") {
    const morganAdded = addedCpu("morgan");
    targets.push({
      label: `${framework}: events-forward adds <= half of morgan's CPU (${fmt(own, 1)} vs ${fmt(morganAdded, 1)} µs)`,
      met: own <= morganAdded / 2,
    });
    targets.push({
      label: `${framework}: events-forward >= 0.90 of bare throughput (${fmt(ownRatio, 3)})`,
      met: ownRatio >= 0.9,
    });
  } else if (isExpress(framework)) {
    const morganAdded = addedCpu("morgan");
    const against = dictionary ? "the bare app in dictionary mode" : "bare";
    targets.push({
      label: `${framework}: events-forward >= 0.92 of ${against} (${fmt(ownRatio, 3)})`,
      met: ownRatio >= 0.92,
    });
    targets.push({
      label: `${framework}: events-forward adds less CPU than morgan (${fmt(own, 1)} vs ${fmt(morganAdded, 1)} µs)`,
      met: own < morganAdded,
    });
  } else {
    targets.push({
      label: `${framework}: events-forward >= 0.95 of bare throughput (${fmt(ownRatio, 3)})`,
      met: ownRatio >= 0.95,
    });
  }
  const ours = median(ratios.get("events-forward")!);
  const rival = framework === "fastify" ? "fastify-logger" : framework === "hono" ? undefined : "pino-http";
  if (rival !== undefined) {
    const theirs = median(ratios.get(rival)!);
    targets.push({
      label: `${framework}: events-forward ahead of ${rival} (throughput ${fmt(ours, 3)} vs ${fmt(theirs, 3)}; added CPU ${fmt(own, 1)} vs ${fmt(addedCpu(rival), 1)} µs)`,
      met: rival === "fastify-logger" ? own < addedCpu(rival) : ours > theirs,
    });
  }
  {
    // Two events per request (the request event and the handler's put) must all have reached the store.
    const line = `${framework}: events-forward delivered ${fmt(stats.sent)} events for ${fmt(stats.handled)} requests, in ${fmt(sunk.requests)} requests to the store, overflowed ${stats.overflowed}, dropped ${stats.dropped}`;
    console.log(line);
    notes.push(line);
    if (stats.sent !== stats.handled * 2 || stats.overflowed > 0 || stats.dropped > 0)
      throw new Error(`events were lost: ${line}`);
  }
}
await sink.stop();
report({ name: "request-overhead", metrics, targets, notes });
