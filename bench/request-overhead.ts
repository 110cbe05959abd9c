/**
 * Benchmark 1: what a request costs with events-forward, pino-http or morgan mounted, against
 * the bare app (Express, Koa); on Fastify against the bare app and Fastify's own request logging;
 * on Hono (@hono/node-server) against the bare app. `--frameworks=fastify,hono` runs only those. Each variant runs in its own server process; autocannon drives the load from
 * this process. Every round runs every variant once, in a fresh random order; the score of a
 * variant is the median over rounds of (its req/s) / (bare req/s in the same round).
 * Alongside, each server reports its CPU time per request handled: a second view of the same
 * cost that other work on the machine disturbs less than it disturbs throughput.
 */
import { expressObjectsNeedDictionaryMode } from "../src/http/express-objects.js";
import { pick, quick, report } from "./lib/args.js";
import { ask, CONNECTIONS as connections, load, measure } from "./lib/load.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

// noop (a middleware that only calls next) reads how far the machine's noise moves a ratio: full runs only.
// dictionary (Express's req and res switched to dictionary mode, as events-forward does where V8
// needs it) is the baseline of events-forward's own cost on Express.
// fastify-logger is Fastify's own request logging (pino, as `logger: true`), the competitor there.
const ALL_VARIANTS = ["bare", "noop", "dictionary", "events-forward", "pino-http", "morgan", "fastify-logger"] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const ALL_FRAMEWORKS = ["express", "koa", "fastify", "hono"] as const;
type Framework = (typeof ALL_FRAMEWORKS)[number];
const chosenFrameworks = process.argv.find((arg) => arg.startsWith("--frameworks="))?.slice("--frameworks=".length).split(",");
const FRAMEWORKS = ALL_FRAMEWORKS.filter((f) => chosenFrameworks === undefined || chosenFrameworks.includes(f));

/** Each framework's competitor: the request logger its users would otherwise mount. */
const COMPETITOR: Partial<Record<Framework, Variant>> = { express: "pino-http", koa: "pino-http", fastify: "fastify-logger" };
/** The share of bare throughput events-forward must keep. */
const RATIO_TARGET: Record<Framework, number> = { express: 0.97, koa: 0.97, fastify: 0.95, hono: 0.95 };

function variantsFor(framework: Framework): readonly Variant[] {
  const others = framework === "express" || framework === "koa" ? ["pino-http", "morgan"] : framework === "fastify" ? ["fastify-logger"] : [];
  return ALL_VARIANTS.filter(
    (v) =>
      ["bare", "events-forward", ...others].includes(v) ||
      (v === "noop" && !quick) ||
      (v === "dictionary" && framework === "express" && expressObjectsNeedDictionaryMode()),
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
  for (const variant of VARIANTS) await load(servers.get(variant)!.port, warmupSeconds);
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<Variant, number>();
    for (const variant of shuffled(VARIANTS)) {
      const run = await measure(servers.get(variant)!, seconds);
      thisRound.set(variant, run.rps);
      cpu.get(variant)!.push(run.cpuPerRequest);
    }
    for (const variant of VARIANTS) {
      rps.get(variant)!.push(thisRound.get(variant)!);
      ratios.get(variant)!.push(thisRound.get(variant)! / thisRound.get("bare")!);
    }
  }
  const { stats } = await ask<Stats>(servers.get("events-forward")!, "stats", "stats");
  const sunk = await sink.stats();
  for (const server of servers.values()) await server.stop();

  const bareCpu = median(cpu.get("bare")!);
  console.log(`\n${framework}${framework === "hono" ? " (@hono/node-server)" : ""}: hello world, ${connections} connections, ${rounds} rounds of ${seconds} s per variant`);
  printTable([
    ["variant", "median req/s", "spread", "ratio to bare", "server CPU µs/req", "bare CPU / CPU"],
    ...VARIANTS.map((v) => [
      v,
      fmt(median(rps.get(v)!)),
      `${fmt(spread(rps.get(v)!) * 100)}%`,
      fmt(median(ratios.get(v)!), 3),
      fmt(median(cpu.get(v)!), 1),
      fmt(bareCpu / median(cpu.get(v)!), 3),
    ]),
  ]);
  const ours = median(ratios.get("events-forward")!);
  metrics[`${framework}.bare_rps`] = median(rps.get("bare")!);
  for (const v of VARIANTS) {
    metrics[`${framework}.${v}_cpu_us`] = median(cpu.get(v)!);
    if (v !== "bare") metrics[`${framework}.${v}_ratio`] = median(ratios.get(v)!);
    // The headline: server CPU a request costs on top of the bare app's, in µs.
    if (v !== "bare") metrics[`${framework}.${v}_added_cpu_us`] = median(cpu.get(v)!) - bareCpu;
  }
  const added = (v: Variant) => `${fmt(median(cpu.get(v)!) - bareCpu, 1)} µs`;
  const target = RATIO_TARGET[framework];
  targets.push({ label: `${framework}: events-forward >= ${target} of bare throughput (${fmt(ours, 3)}; adds ${added("events-forward")} of server CPU per request)`, met: ours >= target });
  const competitor = COMPETITOR[framework];
  if (competitor !== undefined) {
    const theirs = median(ratios.get(competitor)!);
    const cheaper = median(cpu.get("events-forward")!) < median(cpu.get(competitor)!);
    targets.push({
      label: `${framework}: events-forward ahead of ${competitor} (throughput ${fmt(ours, 3)} vs ${fmt(theirs, 3)}; added CPU ${added("events-forward")} vs ${added(competitor)})`,
      met: ours > theirs && cheaper,
    });
  }
  if (VARIANTS.includes("dictionary")) {
    // events-forward makes Express itself faster on this Node: its own cost is against that app.
    const own = median(ratios.get("events-forward")!.map((ratio, round) => ratio / ratios.get("dictionary")![round]!));
    metrics[`${framework}.events-forward_to_dictionary_ratio`] = own;
    const line = `${framework}: events-forward / the bare app in dictionary mode: ${fmt(own, 3)} (its own cost, without what the switch saves Express)`;
    console.log(line);
    notes.push(line);
  }
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
