/**
 * Benchmark 2: the cost of recording one event, in ns, for events.put() against posthog-node's
 * capture() and @segment/analytics-node's track(), all pointed at the same loopback sink, each in
 * its own process (see lib/put-client.ts for how a sample is taken). Samples alternate between
 * the contenders in a new random order each round. Score: median over samples of wall-clock ns per
 * event; the process's CPU time per event is shown beside it (other work on the machine inflates
 * wall-clock time more than CPU time). Beside them, a yardstick (one JSON.stringify of the same
 * properties) and two floors (lib/floor-put.ts: what a put() costs here at the least, with and
 * without its checks), none of which sends.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pick, report } from "./lib/args.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";

const K = 500;
const samples = pick(200, 20);
const WARMUP = 10;
// --baseline <module>: events.put() of another build (say, src/index.ts of a checkout of main)
// runs beside this one, sample for sample: a change's cost to put(), measured in one run.
const { values } = parseArgs({ options: { baseline: { type: "string" }, quick: { type: "boolean" } }, strict: false });
const baseline = typeof values.baseline === "string" ? resolve(values.baseline) : undefined;
const CONTENDERS = [
  "events.put",
  ...(baseline === undefined ? [] : (["events.put@baseline"] as const)),
  "events.put+beforeSend",
  "events.put+subscribed",
  "req.events.put",
  "posthog-node",
  "segment",
  "json",
  "floor",
  "floor+checks",
] as const;
/** The yardstick and the floors send nothing. */
const SENDERS = CONTENDERS.filter((c) => c !== "json" && !c.startsWith("floor"));
const LABELS: Record<string, string> = {
  "events.put": "events.put()",
  "events.put@baseline": `events.put() of ${baseline}`,
  "events.put+beforeSend": "events.put(), beforeSend: (e) => e",
  "events.put+subscribed": "events.put(), every diagnostics channel subscribed",
  "req.events.put": "req.events.put() (request id, actor)",
  "posthog-node": "posthog-node capture()",
  segment: "segment track()",
  json: "yardstick: JSON.stringify(properties) alone",
  floor: "floor: the time, a copy, a push",
  "floor+checks": "floor, with put()'s checks written straight",
};

const sink = await startSink();
const clients = new Map<string, Child>();
const started = await Promise.all(
  CONTENDERS.map((name) =>
    forkWithPort("./put-client.ts", [name, sink.url, String(K), ...(baseline === undefined ? [] : [baseline])]),
  ),
);
CONTENDERS.forEach((name, i) => clients.set(name, started[i]!));

function ask<T>(child: Child, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.process.once("message", (answer: T) => resolve(answer));
    child.process.send(message);
  });
}

const wall = new Map<string, number[]>(CONTENDERS.map((c) => [c, []]));
const cpu = new Map<string, number[]>(CONTENDERS.map((c) => [c, []]));
for (let s = 0; s < samples + WARMUP; s++) {
  for (const name of shuffled(CONTENDERS)) {
    const answer = await ask<{ wallNs: number; cpuNs: number }>(clients.get(name)!, "sample");
    if (s < WARMUP) continue; // the first samples warm the JIT up
    wall.get(name)!.push(answer.wallNs);
    cpu.get(name)!.push(answer.cpuNs);
  }
}
for (const client of clients.values()) await ask(client, "close");
const calls = (samples + WARMUP) * K * SENDERS.length;
const sunk = await sink.waitFor(calls, 30_000);
if (sunk.events !== calls || sunk.badBodies > 0)
  throw new Error(`the sink counted ${sunk.events} of ${calls} events, ${sunk.badBodies} bad bodies`);
for (const client of clients.values()) await client.stop();
await sink.stop();

const ours = median(wall.get("events.put")!);
const ph = median(wall.get("posthog-node")!);
const sg = median(wall.get("segment")!);
console.log(`\ncost of recording one event: ${samples} samples of ${K} calls per contender, each in its own process`);
printTable([
  ["contender", "median ns/event", "p90 ns/event", "CPU ns/event", "vs events.put()"],
  ...CONTENDERS.map((c) => {
    const sorted = [...wall.get(c)!].sort((a, b) => a - b);
    return [
      LABELS[c]!,
      fmt(median(sorted)),
      fmt(sorted[Math.floor(sorted.length * 0.9)]!),
      fmt(median(cpu.get(c)!)),
      `${fmt(median(sorted) / ours, 2)}x`,
    ];
  }),
]);
console.log(`(all ${fmt(calls)} events reached the sink)`);
report({
  name: "put-cost",
  metrics: {
    put_ns: ours,
    put_cpu_ns: median(cpu.get("events.put")!),
    req_put_ns: median(wall.get("req.events.put")!),
    put_before_send_ns: median(wall.get("events.put+beforeSend")!),
    put_subscribed_ns: median(wall.get("events.put+subscribed")!),
    posthog_ns: ph,
    segment_ns: sg,
    json_ns: median(wall.get("json")!),
    floor_ns: median(wall.get("floor")!),
    floor_checks_ns: median(wall.get("floor+checks")!),
    ...(baseline === undefined ? {} : { baseline_put_ns: median(wall.get("events.put@baseline")!) }),
  },
  targets: [
    {
      label: `events.put() <= 400 ns median (${fmt(ours)} ns; CPU ${fmt(median(cpu.get("events.put")!))} ns)`,
      met: ours <= 400,
    },
    { label: `>= 3x faster than posthog-node capture() (${fmt(ph / ours, 1)}x)`, met: ph / ours >= 3 },
    { label: `>= 3x faster than segment track() (${fmt(sg / ours, 1)}x)`, met: sg / ours >= 3 },
  ],
});
