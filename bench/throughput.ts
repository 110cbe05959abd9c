/**
 * Benchmark 3: events per second delivered to a local HTTP sink with the rate limit lifted,
 * events-forward against posthog-node and Segment at their largest batch settings. Each
 * contender lives in its own process (warm across rounds) and times a run from its first call
 * to its own flush reporting everything acknowledged; the sink, in another process, keeps every
 * body and, after the run, parses them all and counts the events: a run counts only if all n
 * arrived. Rounds
 * alternate the contenders in a random order; score: median events/s. Beside it, the share of
 * each run's time its process spent in the garbage collector (perf_hooks GC entries). Two floors
 * run beside them: the same rows, made at once as strings and sent in the same batches, with none
 * of events-forward's guarantees (lib/floor-forwarder.ts): what the job itself costs, in GC too.
 */
import { pick, report } from "./lib/args.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

/** floor and floor-concat: the least code that does the job (lib/floor-forwarder.ts), for its GC. */
const CONTENDERS = ["events-forward", "posthog-node", "segment", "floor", "floor-concat"] as const;
const n = pick(200_000, 10_000);
const rounds = pick(5, 2);

// The sink counts the events after each run: parsing as they come would make it the bottleneck.
const sink = await startSink("store");
const clients = new Map<string, Child>();
const started = await Promise.all(
  CONTENDERS.map((name) => forkWithPort("./throughput-client.ts", [name, sink.url, String(n)])),
);
CONTENDERS.forEach((name, i) => clients.set(name, started[i]!));

async function run(name: string, events: number): Promise<{ perSecond: number; gcShare: number }> {
  await sink.reset();
  const child = clients.get(name)!;
  const done = new Promise<{ ms: number; gcMs: number }>((resolve) => child.process.once("message", resolve));
  child.process.send({ run: events });
  const { ms, gcMs } = await done;
  const stats = await sink.waitFor(events, 60_000);
  if (stats.events !== events || stats.badBodies > 0)
    throw new Error(`${name}: sink counted ${stats.events} of ${events} events, ${stats.badBodies} bad bodies`);
  return { perSecond: (events / ms) * 1000, gcShare: gcMs / ms };
}

const perSecond = new Map<string, number[]>(CONTENDERS.map((c) => [c, []]));
const gcShares = new Map<string, number[]>(CONTENDERS.map((c) => [c, []]));
for (const name of CONTENDERS) await run(name, pick(20_000, 5_000)); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const name of shuffled(CONTENDERS)) {
    const result = await run(name, n);
    perSecond.get(name)!.push(result.perSecond);
    gcShares.get(name)!.push(result.gcShare);
  }
}
for (const client of clients.values()) await client.stop();
await sink.stop();

const ours = median(perSecond.get("events-forward")!);
console.log(
  `\nforwarding throughput: ${fmt(n)} events per run, ${rounds} rounds, sink counts every event after each run`,
);
printTable([
  ["contender", "median events/s", "spread", "events-forward is", "time in GC"],
  ...CONTENDERS.map((c) => [
    c,
    fmt(median(perSecond.get(c)!)),
    `${fmt(spread(perSecond.get(c)!) * 100)}%`,
    `${fmt(ours / median(perSecond.get(c)!), 2)}x`,
    `${fmt(median(gcShares.get(c)!) * 100, 1)}%`,
  ]),
]);
const gcShare = median(gcShares.get("events-forward")!);
const ph = median(perSecond.get("posthog-node")!);
const sg = median(perSecond.get("segment")!);
report({
  name: "throughput",
  metrics: {
    events_forward_eps: ours,
    posthog_eps: ph,
    segment_eps: sg,
    events_forward_gc_share: gcShare,
    posthog_gc_share: median(gcShares.get("posthog-node")!),
    segment_gc_share: median(gcShares.get("segment")!),
    floor_eps: median(perSecond.get("floor")!),
    floor_gc_share: median(gcShares.get("floor")!),
    floor_concat_eps: median(perSecond.get("floor-concat")!),
    floor_concat_gc_share: median(gcShares.get("floor-concat")!),
  },
  targets: [
    { label: `events-forward >= 200,000 events/s (${fmt(ours)})`, met: ours >= 200_000 },
    { label: `>= 5x posthog-node (${fmt(ours / ph, 1)}x)`, met: ours / ph >= 5 },
    { label: `>= 5x segment (${fmt(ours / sg, 1)}x)`, met: ours / sg >= 5 },
    { label: `events-forward spends <= 5% of the run in GC (${fmt(gcShare * 100, 1)}%)`, met: gcShare <= 0.05 },
  ],
});
