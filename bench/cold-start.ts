/**
 * Cold start: what `import("events-forward")` costs a process that has just started (a serverless
 * function pays it on every cold start). Each sample is a fresh `node` process that times its own
 * import (performance.now() around it) and exits; its wall time, spawn to exit, is measured too.
 * Contenders, in a shuffled order each round: a bare `node -e ''` (the baseline of the wall time),
 * the package as users import it (the built dist/, through its package name), the package plus
 * `eventsForward({ apiUrl })`, and the clients users would pick instead: posthog-node and
 * Segment's analytics-node. Prints medians and ratios, measured in the same run.
 *
 * Needs `npm run build` first (it imports dist/, as an installed package would).
 *   node --import tsx bench/cold-start.ts [--runs N] [--quick]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pick, report } from "./lib/args.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

const { values } = parseArgs({
  options: { runs: { type: "string" }, quick: { type: "boolean", default: false } },
});
const RUNS = Number(values.runs ?? pick(40, 8));
const root = fileURLToPath(new URL("..", import.meta.url));
if (!existsSync(`${root}/dist/index.js`)) throw new Error("dist/index.js is missing: run `npm run build` first");

/** A script that times its import and prints the milliseconds. */
const timed = (body: string) =>
  `const t0 = performance.now(); ${body}; process.stdout.write(String(performance.now() - t0));`;

const CONTENDERS: Array<[string, string]> = [
  ["node -e '' (baseline)", ""],
  ["events-forward", timed(`await import("events-forward")`)],
  [
    "events-forward + eventsForward()",
    timed(
      `const { eventsForward } = await import("events-forward"); eventsForward({ apiUrl: "http://127.0.0.1:9/db/-/create", logger: false })`,
    ),
  ],
  ["posthog-node", timed(`await import("posthog-node")`)],
  ["@segment/analytics-node", timed(`await import("@segment/analytics-node")`)],
];

const importMs = new Map<string, number[]>(CONTENDERS.map(([name]) => [name, []]));
const wallMs = new Map<string, number[]>(CONTENDERS.map(([name]) => [name, []]));

for (let round = 0; round < RUNS; round++) {
  for (const [name, script] of shuffled(CONTENDERS)) {
    const started = performance.now();
    // --input-type=module: top-level await, and import() resolves from the repository (a self-reference).
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    const wall = performance.now() - started;
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    wallMs.get(name)!.push(wall);
    if (script !== "") importMs.get(name)!.push(Number(child.stdout));
  }
}

const baselineWall = median(wallMs.get(CONTENDERS[0]![0])!);
const ours = median(importMs.get("events-forward")!);
const posthog = median(importMs.get("posthog-node")!);
const rows = [["", "import ms (median)", "spread", "process ms (median)", "× bare node", "import × posthog-node"]];
for (const [name, script] of CONTENDERS) {
  const imported = script === "" ? Number.NaN : median(importMs.get(name)!);
  const wall = median(wallMs.get(name)!);
  rows.push([
    name,
    script === "" ? "-" : fmt(imported, 1),
    script === "" ? "-" : `${fmt(spread(importMs.get(name)!) * 100)}%`,
    fmt(wall, 1),
    fmt(wall / baselineWall, 2),
    script === "" ? "-" : fmt(imported / posthog, 2),
  ]);
}
console.log(`\ncold start: ${RUNS} fresh processes per contender, Node ${process.versions.node}\n`);
printTable(rows);

report({
  name: "cold-start",
  metrics: {
    importMs: ours,
    posthogImportMs: posthog,
    ratioToPosthog: ours / posthog,
    wallRatioToBareNode: median(wallMs.get("events-forward")!) / baselineWall,
  },
  targets: [
    { label: `import("events-forward") at most 30 ms (median ${fmt(ours, 1)} ms)`, met: ours <= 30 },
    {
      label: `below posthog-node's import in the same run (${fmt(ours, 1)} against ${fmt(posthog, 1)} ms)`,
      met: ours < posthog,
    },
  ],
});
