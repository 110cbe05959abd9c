/**
 * Runs the events-forward throughput client alone, with extra node flags, for profiling (not part
 * of `npm run bench`):
 *   node --import tsx bench/profile-throughput.ts [events] [runs] [-- node flags, e.g. --cpu-prof --trace-gc]
 * Prints each run's events/s and its share of time in GC.
 */
import { forkWithPort, startSink } from "./lib/processes.js";

const dash = process.argv.indexOf("--");
const [eventsText = "200000", runsText = "3"] = process.argv.slice(2, dash === -1 ? undefined : dash);
const flags = dash === -1 ? [] : process.argv.slice(dash + 1);
const n = Number(eventsText);
const sink = await startSink("store");
const client = await forkWithPort("./throughput-client.ts", ["events-forward", sink.url, String(n)], flags);
for (let run = 0; run < Number(runsText); run++) {
  await sink.reset();
  const done = new Promise<{ ms: number; gcMs: number }>((resolve) => client.process.once("message", resolve));
  client.process.send({ run: n });
  const { ms, gcMs } = await done;
  const stats = await sink.waitFor(n, 60_000);
  if (stats.events !== n) throw new Error(`sink counted ${stats.events} of ${n}`);
  console.log(
    `run ${run}: ${Math.round((n / ms) * 1000)} events/s, ${((gcMs / ms) * 100).toFixed(1)}% in GC (${gcMs.toFixed(0)} of ${ms.toFixed(0)} ms)`,
  );
}
const exited = new Promise((resolve) => client.process.once("exit", resolve));
client.process.disconnect();
await exited;
await sink.stop();
