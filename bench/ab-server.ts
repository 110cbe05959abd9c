/**
 * Two checkouts side by side (not part of `npm run bench`): the same request-overhead server
 * variant from this checkout and from another (say, `git archive <commit> | tar -x -C /tmp/before`
 * with node_modules linked), plus this checkout's bare app and morgan, in alternating rounds:
 *   node --import tsx bench/ab-server.ts <express|express4|koa> <other checkout> [rounds]
 * Prints each one's CPU µs per request added to the bare app's in the same round (median).
 */
import { join } from "node:path";
import { measure, load } from "./lib/load.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, shuffled } from "./lib/stats.js";

const [framework = "koa", other = "/tmp/before", roundsText = "12"] = process.argv.slice(2);
const sink = await startSink("drain");
const servers: [string, Child][] = [
  ["bare", await forkWithPort("./app-server.ts", [framework, "bare", sink.url])],
  ["morgan", await forkWithPort("./app-server.ts", [framework, "morgan", sink.url])],
  ["events-forward (this checkout)", await forkWithPort("./app-server.ts", [framework, "events-forward", sink.url])],
  [
    `events-forward (${other})`,
    await forkWithPort(join(other, "bench/lib/app-server.ts"), [framework, "events-forward", sink.url]),
  ],
];
for (const [, server] of servers) await load(server.port, 3);
const added = new Map<string, number[]>(servers.map(([name]) => [name, []]));
for (let round = 0; round < Number(roundsText); round++) {
  const cpu = new Map<string, number>();
  for (const [name, server] of shuffled(servers)) cpu.set(name, (await measure(server, 1)).cpuPerRequest);
  for (const [name] of servers) added.get(name)!.push(cpu.get(name)! - cpu.get("bare")!);
}
for (const [name] of servers.slice(1))
  console.log(`${framework}: ${name} adds ${fmt(median(added.get(name)!), 1)} µs CPU per request`);
for (const [, server] of servers) await server.stop();
await sink.stop();
