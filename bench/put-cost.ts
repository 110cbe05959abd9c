/**
 * Benchmark 2: the cost of recording one event, in ns, for events.put() against posthog-node's
 * capture() and @segment/analytics-node's track(), all pointed at the same loopback sink.
 *
 * A sample is K calls followed by one turn of the event loop (setImmediate): posthog-node and
 * Segment finish queueing an event in promise callbacks, so their cost is only complete once
 * those have run; events.put() is synchronous and pays the same turn. Sending is held off during
 * samples for every contender (batch thresholds above K, no timers; for events-forward a rate
 * limit of one request a day after the first flush) and done, untimed, between samples, so each
 * sample starts with empty queues. Score: median over samples of ns per event.
 */
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { Analytics } from "@segment/analytics-node";
import { PostHog } from "posthog-node";
import { pick, report } from "./lib/args.js";
import { eventsForward } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./lib/payload.js";
import { startSink } from "./lib/processes.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";

const K = 500;
const samples = pick(200, 40);
const sink = await startSink();

const events = eventsForward({
  apiUrl: `${sink.url}/bench/-/create`,
  instance: "bench",
  actor: () => USER_ID,
  requestEvents: false,
  batchLimit: 100,
  maxRate: 1,
  timePeriod: 86_400,
  maxQueueSize: 4 * K,
  logger: quietLogger,
});
const posthog = new PostHog("phc_bench", {
  host: sink.url,
  flushAt: 4 * K,
  maxQueueSize: 4 * K,
  maxBatchSize: 4 * K,
  flushInterval: 0,
});
const segment = new Analytics({ writeKey: "bench", host: sink.url, path: "/v1/batch", flushAt: 4 * K, flushInterval: 3_600_000 });

// A request context as the middleware makes it, for req.events.put().
const req = new IncomingMessage(new Socket()) as IncomingMessage & { events: { put(e: object): void } };
req.method = "GET";
req.url = "/checkout";
events(req, new ServerResponse(req), () => {});

type Contender = { name: string; call: (i: number) => void; flush: () => Promise<unknown> };
const contenders: Contender[] = [
  {
    name: "events.put()",
    call: (i) => events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }),
    flush: () => events.flush(),
  },
  {
    name: "req.events.put() (request id, actor)",
    call: (i) => req.events.put({ event: EVENT_NAME, properties: eventProperties(i) }),
    flush: () => events.flush(),
  },
  {
    name: "posthog-node capture()",
    call: (i) => posthog.capture({ distinctId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
    flush: () => posthog.flush(),
  },
  {
    name: "segment track()",
    call: (i) => segment.track({ userId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
    flush: () => segment.flush(),
  },
];

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const perEvent = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
let calls = 0;
for (let s = 0; s < samples + 5; s++) {
  for (const contender of shuffled(contenders)) {
    const start = performance.now();
    for (let i = 0; i < K; i++) contender.call(i);
    await turn();
    const ns = ((performance.now() - start) * 1e6) / K;
    if (s >= 5) perEvent.get(contender.name)!.push(ns); // the first samples warm the JIT up
    calls += K;
    await contender.flush();
  }
}
const sunk = await sink.waitFor(calls, 30_000);
if (sunk.badBodies > 0) throw new Error(`the sink could not parse ${sunk.badBodies} bodies`);
await Promise.all([events.close(), posthog.shutdown(), segment.closeAndFlush()]);
await sink.stop();

const ours = median(perEvent.get("events.put()")!);
const ph = median(perEvent.get("posthog-node capture()")!);
const sg = median(perEvent.get("segment track()")!);
console.log(`\ncost of recording one event: ${samples} samples of ${K} calls each (median ns per event)`);
printTable([
  ["contender", "median ns/event", "p90 ns/event", "vs events.put()"],
  ...contenders.map((c) => {
    const values = perEvent.get(c.name)!;
    const sorted = [...values].sort((a, b) => a - b);
    return [c.name, fmt(median(values)), fmt(sorted[Math.floor(sorted.length * 0.9)]!), `${fmt(median(values) / ours, 2)}x`];
  }),
]);
console.log(`(all ${fmt(calls)} events reached the sink)`);
report({
  name: "put-cost",
  metrics: { put_ns: ours, req_put_ns: median(perEvent.get("req.events.put() (request id, actor)")!), posthog_ns: ph, segment_ns: sg },
  targets: [
    { label: `events.put() <= 1000 ns median (${fmt(ours)} ns)`, met: ours <= 1000 },
    { label: `>= 3x faster than posthog-node capture() (${fmt(ph / ours, 1)}x)`, met: ph / ours >= 3 },
    { label: `>= 3x faster than segment track() (${fmt(sg / ours, 1)}x)`, met: sg / ours >= 3 },
  ],
});
