import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The map of src/'s imports, read from the source (value and type imports alike), and what
// docs/architecture.md says of it: no file reaches itself through its imports, and the folders'
// dependencies point the way the page says.

const SRC = resolve(import.meta.dirname, "../src");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every relative module a file names: `import`, `import type`, `export ... from`, `import("...")`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gm),
    ...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

const name = (file: string) => relative(SRC, file);
const GRAPH = new Map(filesUnder(SRC).map((file) => [name(file), importsOf(file).map(name)]));

/** A cycle as a list of files (the first repeated at the end), or undefined when there is none. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The folder a file is in ("root" for src/*.ts). */
const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0]! : "root");

/**
 * Which folders each folder may import (docs/architecture.md, "Dependencies point one way").
 * `stores` and `spool` may read config's types and constants (options.ts, option-table.ts's
 * types, defaults.ts), never the code that resolves options (resolve.ts, ini.ts).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  pipeline: ["core"],
  row: ["core", "pipeline"],
  observe: ["core", "pipeline", "config"],
  // The embedded store creates the dashboard's indexes with its table (dashboard/indexes.ts).
  stores: ["core", "pipeline", "row", "config", "dashboard"],
  spool: ["core", "pipeline", "row", "config", "observe"],
  http: ["core", "row", "config"],
  config: ["core", "pipeline", "row", "stores", "spool", "http"],
  root: ["core", "pipeline", "row", "observe", "stores", "spool", "config", "http"],
  cli: ["core", "pipeline", "row", "observe", "stores", "spool", "config", "http", "root", "dashboard"],
  // What `events-forward dashboard` writes: its SQL reads the table, not the row code.
  dashboard: [],
};
/** The files of config/ that resolve options: stores/ and spool/ never import them. */
const RESOLVING = ["config/resolve.ts", "config/ini.ts"];

describe("the import graph of src/", () => {
  it("reads the imports (a file it cannot see would make the checks below hold whatever the code does)", () => {
    expect(GRAPH.size).toBeGreaterThan(50);
    expect(GRAPH.get("events-forward.ts")).toContain("config/resolve.ts");
    expect(GRAPH.get("stores/kind.ts")).toContain("config/options.ts"); // an `import type`
    expect(
      findCycle(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
        ]),
      ),
    ).toEqual(["a", "b", "c", "a"]);
  });

  it("has no import cycle, value or type", () => {
    const cycle = findCycle(GRAPH);
    expect(cycle && cycle.join(" -> "), "an import cycle").toBeUndefined();
  });

  it("points the way docs/architecture.md says", () => {
    const wrong: string[] = [];
    for (const [file, imports] of GRAPH) {
      const from = folderOf(file);
      for (const target of imports) {
        const to = folderOf(target);
        if (to === from) continue;
        if (!(MAY_IMPORT[from] ?? []).includes(to)) wrong.push(`${file} -> ${target}`);
        if ((from === "stores" || from === "spool") && RESOLVING.includes(target)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
