/**
 * Benchmark 5: heap bytes per queued event against the event's serialized size. The store is
 * unreachable (a closed loopback port), so every event stays queued; the heap is measured after
 * a full GC before and after queueing n events, and beside it the memory outside the heap that
 * array buffers hold (where queued events keep their bytes). Needs --expose-gc (bench/run.ts
 * passes it).
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

function heap(): { heap: number; buffers: number } {
  for (let i = 0; i < 3; i++) gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
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
for (let i = 0; i < n; i++)
  serialized += Buffer.byteLength(
    serialize({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }, {}),
  );
// No close(): with the store unreachable it would wait out its timeout; the process just ends.

const perEvent = (after.heap - before.heap) / n;
const buffersPerEvent = (after.buffers - before.buffers) / n;
const eventBytes = serialized / n;
const ratio = perEvent / eventBytes;
const totalRatio = (perEvent + buffersPerEvent) / eventBytes;
console.log(`\nmemory: ${fmt(n)} events queued for an unreachable store`);
printTable([
  ["measure", "bytes"],
  ["heap per queued event", fmt(perEvent, 1)],
  ["array buffers per queued event (outside the heap)", fmt(buffersPerEvent, 1)],
  ["serialized event (UTF-8)", fmt(eventBytes, 1)],
  ["heap / serialized", fmt(ratio, 2)],
  ["(heap + array buffers) / serialized", fmt(totalRatio, 2)],
]);
report({
  name: "memory",
  metrics: {
    heap_bytes_per_event: perEvent,
    buffer_bytes_per_event: buffersPerEvent,
    serialized_bytes_per_event: eventBytes,
    ratio,
    total_ratio: totalRatio,
  },
  targets: [
    {
      label: `heap per queued event <= its serialized size (${fmt(ratio, 2)}x; with array buffers ${fmt(totalRatio, 2)}x)`,
      met: ratio <= 1,
    },
  ],
});
