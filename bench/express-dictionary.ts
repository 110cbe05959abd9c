/**
 * What switching Express's req and res to V8's dictionary mode does to Express itself (the switch
 * events-forward's middleware makes on Node 20 and 22; README, "Express on Node 20 and 22"): the
 * same Express 4 and Express 5 apps with and without it, on a hello world and on a small JSON API
 * route. Rounds alternate the two in a random order; scores are medians over rounds of the
 * switched app's req/s and CPU per request against the plain app's in the same round. No target:
 * it backs README's numbers, and shows that the switch costs Express nothing.
 */
import { expressObjectsNeedDictionaryMode } from "../src/http/express-objects.js";
import { pick, report } from "./lib/args.js";
import { load, measure, type LoadRequest } from "./lib/load.js";
import { forkWithPort } from "./lib/processes.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";

const VARIANTS = ["bare", "dictionary"] as const;
const WORKLOADS: Record<string, LoadRequest> = {
  "hello world": { path: "/" },
  "JSON API route": {
    path: "/api/users/42/orders?coupon=SPRING",
    method: "POST",
    headers: { "content-type": "application/json", "x-user": "user-4242" },
    body: JSON.stringify({
      items: [
        { sku: "A-1", qty: 2 },
        { sku: "B-7", qty: 1 },
      ],
      note: "leave at the door",
    }),
  },
};
const rounds = pick(12, 3);
const seconds = pick(1, 0.5);
const warmupSeconds = pick(3, 1);

if (!expressObjectsNeedDictionaryMode()) {
  const note = `skipped: V8 ${process.versions.v8} shares the hidden classes of Express's objects, so events-forward leaves them alone`;
  console.log(note);
  report({ name: "express-dictionary", metrics: {}, targets: [], notes: [note] });
  process.exit(0);
}

const metrics: Record<string, number> = {};
const notes: string[] = [];
for (const version of ["4", "5"]) {
  const [bare, dictionary] = await Promise.all(
    VARIANTS.map((variant) => forkWithPort("./express-api-server.ts", [version, variant])),
  );
  const servers = { bare: bare!, dictionary: dictionary! };
  const rows: string[][] = [["workload", "bare CPU µs/req", "dictionary CPU µs/req", "CPU ratio", "req/s ratio"]];
  for (const [workload, request] of Object.entries(WORKLOADS)) {
    for (const variant of VARIANTS) await load(servers[variant].port, warmupSeconds, request);
    const cpu = { bare: [] as number[], dictionary: [] as number[] };
    const cpuRatios: number[] = [];
    const rpsRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const run: Partial<Record<(typeof VARIANTS)[number], { rps: number; cpuPerRequest: number }>> = {};
      for (const variant of shuffled(VARIANTS)) run[variant] = await measure(servers[variant], seconds, request);
      cpu.bare.push(run.bare!.cpuPerRequest);
      cpu.dictionary.push(run.dictionary!.cpuPerRequest);
      cpuRatios.push(run.dictionary!.cpuPerRequest / run.bare!.cpuPerRequest);
      rpsRatios.push(run.dictionary!.rps / run.bare!.rps);
    }
    rows.push([
      workload,
      fmt(median(cpu.bare), 1),
      fmt(median(cpu.dictionary), 1),
      fmt(median(cpuRatios), 3),
      fmt(median(rpsRatios), 3),
    ]);
    const key = `express${version}.${workload.replace(/\W+/g, "_")}`;
    metrics[`${key}.cpu_ratio`] = median(cpuRatios);
    metrics[`${key}.rps_ratio`] = median(rpsRatios);
    notes.push(
      `Express ${version}, ${workload}: CPU per request ${fmt(median(cpuRatios), 3)}x, req/s ${fmt(median(rpsRatios), 3)}x with the switch`,
    );
  }
  await Promise.all([servers.bare.stop(), servers.dictionary.stop()]);
  console.log(
    `\nExpress ${version}, req and res in dictionary mode vs as Express leaves them: ${rounds} rounds of ${seconds} s each`,
  );
  printTable(rows);
}
report({ name: "express-dictionary", metrics, targets: [], notes });
