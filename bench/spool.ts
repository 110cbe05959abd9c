/**
 * Benchmark 6: the durable spool (SQLite, group commit) on and off: put() latency and events per
 * second. The spool and its own benchmark, bench/spool-put.ts, come from the SQLite work (branch
 * sqlite); this hook runs that benchmark when it is in the checkout (shorter with --quick) and
 * reports itself skipped otherwise, so `npm run bench` covers the spool as soon as it lands.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pick, report } from "./lib/args.js";

const SPOOL_BENCH = fileURLToPath(new URL("./spool-put.ts", import.meta.url));

if (!existsSync(SPOOL_BENCH)) {
  const why = "no spool benchmark in this checkout (bench/spool-put.ts comes with the spool)";
  console.log(`\nspool: skipped (${why})`);
  report({ name: "spool", metrics: {}, targets: [], notes: [`skipped: ${why}`] });
  process.exit(0);
}

const args = ["--events", String(pick(20_000, 5_000)), "--rounds", String(pick(3, 1))];
console.log(`\nspool: bench/spool-put.ts ${args.join(" ")}`);
const code = await new Promise<number | null>((resolve) => {
  const child = spawn(process.execPath, ["--import", "tsx", SPOOL_BENCH, ...args], { stdio: "inherit" });
  child.once("exit", resolve);
});
if (code !== 0) throw new Error(`bench/spool-put.ts exited with ${code}`);
report({ name: "spool", metrics: {}, targets: [], notes: ["see the table printed by bench/spool-put.ts above"] });
