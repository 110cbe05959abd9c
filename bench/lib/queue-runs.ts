/**
 * The two runs bench/redis-spool.ts and bench/sqlite-drivers.ts make of a queue (the memory queue
 * when `spool` is undefined):
 *
 * - measurePut: the latency a request handler sees (p50 and p99 of single puts) and the CPU per
 *   event including the commits (group commit, 5 ms window), in a process that only writes
 *   (publisher: false). Puts come in bursts of 100 a turn of the event loop, pausing (untimed)
 *   while more than 5,000 are buffered.
 * - measureThroughput: events/s from the first put to flush() reporting all delivered, with the
 *   rate limit lifted, into a counting store in another process (bench/lib/sink-server.ts, which
 *   checks every event arrived). 1,000 puts a turn, waiting while more than 5,000 are buffered.
 */
import { eventsForward, type EventsForwardOptions } from "./package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./payload.js";
import type { startSink } from "./processes.js";

export const PER_TURN = 100;
export const BATCH = 10_000;
const BUFFERED_HIGH = 5_000;

type Spool = EventsForwardOptions["spool"];
type Sink = Awaited<ReturnType<typeof startSink>>;

const input = (i: number) => ({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface PutResult {
  p50: number;
  p99: number;
  cpu: number;
}

/** `measured` is called when the timed puts start and again when their last commit is done. */
export async function measurePut(spool: Spool, puts: number, measured: () => void = () => {}): Promise<PutResult> {
  // Writers only; the baseline's store is unreachable, so its events only queue.
  const options: EventsForwardOptions =
    spool === undefined
      ? { apiUrl: "http://127.0.0.1:9/bench/-/create", timePeriod: 3600, maxQueueSize: puts + 10_000 }
      : { spool, publisher: false };
  const events = eventsForward({ instance: "bench", logger: quietLogger, requestEvents: false, ...options });
  const commit = () => (spool === undefined ? Promise.resolve() : events.flush());
  for (let i = 0; i < 2_000; i++) events.put(input(i)); // warm up
  await commit();
  const latencies = new Float64Array(puts);
  measured();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < puts;) {
    const end = Math.min(puts, i + PER_TURN);
    for (; i < end; i++) {
      const start = process.hrtime.bigint();
      events.put(input(i));
      latencies[i] = Number(process.hrtime.bigint() - start);
    }
    await turn(); // the group commit timer runs between bursts, as in an app
    // A put() loop outruns any network round trip: wait, as in throughput below (not timed as put cost).
    while ((events.stats().buffered ?? 0) > BUFFERED_HIGH) await turn();
  }
  await commit(); // the last group commits: its cost counts too
  const cpu = process.cpuUsage(cpuBefore);
  measured();
  await events.close({ timeoutMs: 100 });
  latencies.sort();
  return {
    p50: latencies[puts >> 1]!,
    p99: latencies[Math.floor(puts * 0.99)]!,
    cpu: ((cpu.user + cpu.system) * 1000) / puts,
  };
}

export async function measureThroughput(spool: Spool, sink: Sink, forwarded: number, label: string): Promise<number> {
  await sink.reset();
  const events = eventsForward({
    apiUrl: `${sink.url}/bench/-/create`,
    instance: "bench",
    batchLimit: BATCH,
    maxBatchBytes: 16 * 1024 * 1024,
    timePeriod: 0,
    maxQueueSize: forwarded,
    maxQueueBytes: 1024 * 1024 * 1024,
    logger: quietLogger,
    requestEvents: false,
    ...(spool === undefined ? {} : { spool }),
  });
  // A spool's publisher first takes the lease; the run starts once this process holds it.
  while (events.stats().publisher === false) await new Promise((r) => setTimeout(r, 5));
  const start = performance.now();
  for (let i = 0; i < forwarded;) {
    const end = Math.min(forwarded, i + 1_000);
    for (; i < end; i++) events.put(input(i));
    await turn();
    // A producer that respects backpressure: a put() loop outruns any network round trip, and
    // the spools keep a bounded number of uncommitted events in memory (then put() throws).
    while ((events.stats().buffered ?? 0) > BUFFERED_HIGH) await turn();
  }
  await events.flush();
  const ms = performance.now() - start;
  const stats = await sink.waitFor(forwarded, 60_000);
  if (stats.events !== forwarded || stats.badBodies > 0)
    throw new Error(`${label}: sink counted ${stats.events} of ${forwarded} events, ${stats.badBodies} bad bodies`);
  await events.close({ timeoutMs: 1_000 });
  return (forwarded / ms) * 1000;
}
