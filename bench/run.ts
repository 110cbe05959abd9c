/**
 * Runs every benchmark, each in its own process, and prints a summary of the targets.
 *   npm run bench                      all of them, full length
 *   npm run bench -- --quick           a short run (under a minute)
 *   npm run bench -- --only put-cost   one of them (repeatable)
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./lib/args.js";

const BENCHMARKS = [
  "request-overhead",
  "switched-overhead",
  "express-dictionary",
  "put-cost",
  "throughput",
  "datasette",
  "datasette-return",
  "memory",
  "spool",
  "redis-spool",
  "sqlite-drivers",
  "capacity",
  "cold-start",
  "dashboard-queries",
];
const args = process.argv.slice(2);
const only = args.flatMap((arg, i) =>
  arg === "--only" ? [args[i + 1]!] : arg.startsWith("--only=") ? [arg.slice(7)] : [],
);
const unknown = only.filter((name) => !BENCHMARKS.includes(name));
if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${BENCHMARKS.join(", ")}`);
const chosen = only.length > 0 ? only : BENCHMARKS;
const passOn = args.includes("--quick") ? ["--quick"] : [];

function runOne(name: string): Promise<BenchResult | undefined> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", file, ...passOn], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let result: BenchResult | undefined;
  let pending = "";
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("RESULT ")) result = JSON.parse(line.slice(7)) as BenchResult;
      else console.log(line);
    }
  });
  return new Promise((resolve, reject) =>
    child.once("exit", (code) =>
      code === 0 ? resolve(result) : reject(new Error(`bench/${name}.ts exited with ${code}`)),
    ),
  );
}

const started = Date.now();
const results: BenchResult[] = [];
const failed: string[] = [];
for (const name of chosen) {
  try {
    const result = await runOne(name);
    if (result !== undefined) results.push(result);
  } catch (error) {
    failed.push(`${name}: ${(error as Error).message}`);
  }
}
console.log(`\n=== summary (${((Date.now() - started) / 1000).toFixed(0)} s${passOn.length ? ", quick" : ""}) ===`);
for (const result of results) {
  for (const target of result.targets)
    console.log(`${target.met ? "met   " : "MISSED"}  ${result.name}: ${target.label}`);
  for (const note of result.notes ?? [])
    console.log(`${note.startsWith("skipped") ? "skip  " : "note  "}  ${result.name}: ${note}`);
}
for (const failure of failed) console.log(`FAILED  ${failure}`);
process.exitCode = failed.length > 0 ? 1 : 0;
