/**
 * Profiles one request-overhead server under load (not part of `npm run bench`):
 *   node --import tsx bench/profile-server.ts <express|express4|koa> <variant> [seconds] [outDir]
 * Starts the server with --cpu-prof, warms it up, loads it, prints its CPU µs per request and
 * where the profile says the time goes (bench/lib/cpu-profile.ts).
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { load, measure } from "./lib/load.js";
import { forkWithPort, startSink } from "./lib/processes.js";

const [
  framework = "koa",
  variant = "events-forward",
  secondsText = "10",
  outDir = `/tmp/profile-${framework}-${variant}`,
] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const sink = await startSink("drain");
const server = await forkWithPort(
  "./app-server.ts",
  [framework, variant, sink.url],
  ["--cpu-prof", `--cpu-prof-dir=${outDir}`, "--cpu-prof-interval=100"],
);
await load(server.port, 5);
const run = await measure(server, Number(secondsText));
console.log(`${framework} ${variant}: ${run.rps.toFixed(0)} req/s, ${run.cpuPerRequest.toFixed(1)} µs CPU per request`);
const exited = new Promise((resolve) => server.process.once("exit", resolve));
server.process.disconnect();
await exited;
await sink.stop();
// The main thread's profile (thread 0; tsx's loader runs in another).
const file = readdirSync(outDir)
  .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
  .sort()
  .pop()!;
console.log(join(outDir, file));
