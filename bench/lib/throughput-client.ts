/**
 * One contender of the forwarding-throughput benchmark, in its own process:
 *   node --import tsx throughput-client.ts <events-forward|posthog-node|segment|floor|floor-concat> <sinkUrl> <maxEvents>
 * On `{ run: n }` it records n events (in chunks of 1000, yielding to the event loop between
 * chunks so sending overlaps recording, as in an app), waits for its own flush to report them
 * delivered, and answers `{ ms, gcMs }`: first call to last acknowledgement, and the time the
 * garbage collector took in between (perf_hooks GC entries).
 */
import { PerformanceObserver } from "node:perf_hooks";
import { Analytics } from "@segment/analytics-node";
import { PostHog } from "posthog-node";
import { FLOOR_ROWS, floorForwarder } from "./floor-forwarder.js";
import { eventsForward } from "./package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./payload.js";

const [name, sinkUrl, maxEventsText] = process.argv.slice(2) as [string, string, string];
const maxEvents = Number(maxEventsText);

/**
 * Each contender with its largest batches and no rate limit; nothing else changed from defaults.
 * 10,000 events a batch: the most events-forward takes for Datasette (a Datasette with
 * --setting max_insert_rows 10000 takes them; its /-/create endpoint, which this URL names, takes
 * any number), and the same for posthog-node, which sets no limit of its own; Segment caps a batch
 * at 480 KB whatever flushAt says.
 */
const BATCH = 10_000;
function contender(): { call: (i: number) => void; flush: () => Promise<unknown> } {
  if (name === "events-forward") {
    const events = eventsForward({
      apiUrl: `${sinkUrl}/bench/-/create`,
      instance: "bench",
      batchLimit: BATCH,
      // Room for a whole batch: 10,000 rows of this event are about 3 MB.
      maxBatchBytes: 16 * 1024 * 1024,
      timePeriod: 0,
      maxQueueSize: maxEvents,
      maxQueueBytes: 1024 * 1024 * 1024,
      logger: quietLogger,
    });
    return {
      call: (i) => events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }),
      flush: () => events.flush(),
    };
  }
  if (name === "posthog-node") {
    // Compression off: on loopback gzip only costs CPU, so this is posthog-node's fastest setting.
    const posthog = new PostHog("phc_bench", {
      host: sinkUrl,
      flushAt: BATCH,
      maxBatchSize: BATCH,
      maxQueueSize: maxEvents,
      flushInterval: 0,
      disableCompression: true,
    });
    return {
      call: (i) => posthog.capture({ distinctId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
      flush: () => posthog.flush(),
    };
  }
  if (name === "segment") {
    const segment = new Analytics({
      writeKey: "bench",
      host: sinkUrl,
      path: "/v1/batch",
      flushAt: BATCH,
      flushInterval: 10_000,
    });
    return {
      call: (i) => segment.track({ userId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
      flush: () => segment.flush(),
    };
  }
  const floorRows = FLOOR_ROWS[name];
  if (floorRows !== undefined) {
    const floor = floorForwarder(sinkUrl, "bench", floorRows, BATCH);
    return {
      call: (i) => floor.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }),
      flush: () => floor.flush(),
    };
  }
  throw new Error(`unknown contender ${name}`);
}

const { call, flush } = contender();
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ["gc"] });
/** GC entries are delivered later, in a callback: wait for those of the run before reading. */
const gcEntriesIn = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

process.on("message", async (message: { run: number }) => {
  await gcEntriesIn();
  const gcBefore = gcMs;
  const start = performance.now();
  for (let i = 0; i < message.run;) {
    const end = Math.min(message.run, i + 1000);
    for (; i < end; i++) call(i);
    await turn();
  }
  await flush();
  const ms = performance.now() - start;
  await gcEntriesIn();
  process.send!({ ms, gcMs: gcMs - gcBefore });
});
process.send!({ port: 0 });
process.on("disconnect", () => process.exit(0));
