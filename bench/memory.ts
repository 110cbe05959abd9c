/**
 * Benchmark 5: heap bytes per queued event against the event's serialized size. The store is
 * unreachable (a closed loopback port), so every event stays queued; the heap is measured after
 * a full GC before and after queueing n events. Needs --expose-gc (bench/run.ts passes it).
 */
import { createServer } from "node:net";
import { pick, report } from "./lib/args.js";
import { datasetteRowSerializer, eventsForward } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./lib/payload.js";
import { fmt, printTable } from "./lib/stats.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

/** A port nothing listens on: listen on port 0, note it, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const n = pick(200_000, 50_000);
const events = eventsForward({
  apiUrl: `http://127.0.0.1:${await closedPort()}/bench/-/create`,
  instance: "bench",
  maxQueueSize: n + 1000,
  maxQueueBytes: 1024 * 1024 * 1024,
  logger: quietLogger,
});

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

// Warm up the code paths (and the JIT's own allocations) before the baseline.
for (let i = 0; i < 1000; i++) events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
const before = heap();
const queuedBefore = events.stats().queued;
for (let i = 0; i < n; i++) events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
const after = heap();
const queued = events.stats().queued - queuedBefore;
if (queued !== n) throw new Error(`expected ${n} more queued events, found ${queued}`);

// The serialized size of the same events, by the serializer the forwarder uses (UTF-8 bytes).
const serialize = datasetteRowSerializer("bench");
let serialized = 0;
for (let i = 0; i < n; i++) serialized += Buffer.byteLength(serialize({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }, {}));
// No close(): with the store unreachable it would wait out its timeout; the process just ends.

const perEvent = (after - before) / n;
const eventBytes = serialized / n;
const ratio = perEvent / eventBytes;
console.log(`\nmemory: ${fmt(n)} events queued for an unreachable store`);
printTable([
  ["measure", "bytes"],
  ["heap per queued event", fmt(perEvent, 1)],
  ["serialized event (UTF-8)", fmt(eventBytes, 1)],
  ["ratio", fmt(ratio, 2)],
]);
report({
  name: "memory",
  metrics: { heap_bytes_per_event: perEvent, serialized_bytes_per_event: eventBytes, ratio },
  targets: [{ label: `heap per queued event <= its serialized size (${fmt(ratio, 2)}x)`, met: ratio <= 1 }],
});
