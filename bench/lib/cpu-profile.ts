/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums it up: self time per function, and total
 * (inclusive) time per function, as shares of the sampled time.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  selfUs: number;
  totalUs: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, (m, nm) => (nm ? "nm:" : "")).replace(/^file:\/\//, "");
  return `${functionName || "(anonymous)"} ${file ? `${url.includes("node_modules") ? url.slice(url.lastIndexOf("node_modules/") + 13) : url.replace(/^.*\/(src|bench)\//, "$1/")}:${lineNumber + 1}` : ""}`.trim();
}

export function summarize(path: string): { totalUs: number; functions: FunctionTime[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
    totalUs += dt;
  }
  const fn = new Map<string, FunctionTime>();
  const get = (name: string) => {
    let f = fn.get(name);
    if (f === undefined) fn.set(name, (f = { name, selfUs: 0, totalUs: 0 }));
    return f;
  };
  for (const [id, us] of self) {
    get(label(byId.get(id)!)).selfUs += us;
    // Inclusive: each function on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      get(name).totalUs += us;
    }
  }
  return { totalUs, functions: [...fn.values()] };
}

// node --import tsx bench/lib/cpu-profile.ts file.cpuprofile [top] [filter]
if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, top = "40", filter] = process.argv.slice(2);
  const { totalUs, functions } = summarize(path!);
  const pct = (us: number) => ((us / totalUs) * 100).toFixed(2).padStart(6);
  console.log(`sampled ${(totalUs / 1e6).toFixed(2)} s\n-- self`);
  for (const f of [...functions].sort((a, b) => b.selfUs - a.selfUs).slice(0, Number(top)))
    console.log(`${pct(f.selfUs)}%  ${f.name}`);
  console.log("-- total" + (filter ? ` (matching ${filter})` : ""));
  for (const f of [...functions]
    .filter((f) => !filter || f.name.includes(filter))
    .sort((a, b) => b.totalUs - a.totalUs)
    .slice(0, Number(top))) {
    console.log(`${pct(f.totalUs)}%  ${f.name}`);
  }
}
