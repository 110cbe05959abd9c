/**
 * Benchmark 1b: what events-forward, morgan and pino-http add to a Koa request, each measured
 * inside one process that switches its middleware on and off (bench/lib/switched-app.ts).
 * `--framework express` (Express 5) or `express4`: events-forward and the floors on Express, where
 * "off" is the app in dictionary mode (what events-forward's own cost is measured against there).
 * request-overhead.ts compares processes, and two processes of the same code differ here by up to
 * a third for their whole life (±10 µs on a 70 µs request); within one process that difference
 * cancels. Each round runs every process once, in a fresh random order, and each process runs a
 * phase with the middleware and one without, in alternating order; a phase's CPU per request
 * counts the events it put being sent (a flush ends every "on" phase). Score: the median over
 * rounds and processes of (µs CPU per request on) - (off); beside it, (req/s on) / (req/s off).
 * morgan-file is morgan writing to a file stream (/dev/null), as deployed: morgan in
 * request-overhead.ts writes to a null stream, so it pays for no I/O, while events-forward's
 * figure includes sending its batches. floor and floor-concat are the least code that does
 * events-forward's job without its guarantees (lib/floor-forwarder.ts): what the job costs here. `--profile`
 * adds, for events-forward, the floor and morgan, the CPU profile of four phases each way and the
 * functions whose self time the middleware adds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pick, quick, report } from "./lib/args.js";
import { summarize } from "./lib/cpu-profile.js";
import { ask, load } from "./lib/load.js";
import { forkWithPort, startSink, type Child } from "./lib/processes.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";

const frameworkAt = process.argv.indexOf("--framework");
const framework = frameworkAt === -1 ? "koa" : process.argv[frameworkAt + 1]!;
const FRAMEWORKS: Record<string, string> = { koa: "Koa 3", express: "Express 5", express4: "Express 4" };
if (FRAMEWORKS[framework] === undefined)
  throw new Error(`--framework: one of ${Object.keys(FRAMEWORKS).join(", ")}, not ${framework}`);
const onKoa = framework === "koa";
const title = FRAMEWORKS[framework];
const ALL_VARIANTS = ["events-forward", "floor", "floor-concat", "morgan", "morgan-file", "pino-http", "noop"] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const VARIANTS = ALL_VARIANTS.filter((v) => (onKoa || !/morgan|pino/.test(v)) && (!quick || v !== "noop"));
const rounds = pick(10, 2);
const copies = pick(2, 1);
const seconds = pick(1, 0.5);
const profile = process.argv.includes("--profile");

type Cpu = { cpu: number; handled: number };

const sink = await startSink("drain");
const servers: { variant: Variant; child: Child }[] = [];
for (const variant of VARIANTS)
  for (let c = 0; c < copies; c++)
    servers.push({ variant, child: await forkWithPort("./switched-app.ts", [framework, variant, sink.url]) });

/** One phase: CPU µs per request and req/s, the middleware on or off. */
async function phase(child: Child, on: boolean, seconds: number): Promise<{ cpu: number; rps: number }> {
  await ask(child, on ? "on" : "off", "switched");
  const before = await ask<Cpu>(child, "cpu", "cpu");
  const result = await load(child.port, seconds);
  if (on) await ask(child, "flush", "flushed");
  const after = await ask<Cpu>(child, "cpu", "cpu");
  return {
    cpu: (after.cpu - before.cpu) / (after.handled - before.handled),
    rps: result.requests.total / result.duration,
  };
}

// The JIT settles on both paths before anything counts.
for (const { child } of servers) for (const on of [true, false]) await phase(child, on, pick(3, 1));
const added = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
const ratios = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
const offCpu: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const { variant, child } of shuffled(servers)) {
    const onFirst = round % 2 === 0;
    const first = await phase(child, onFirst, seconds);
    const second = await phase(child, !onFirst, seconds);
    const [on, off] = onFirst ? [first, second] : [second, first];
    added.get(variant)!.push(on.cpu - off.cpu);
    ratios.get(variant)!.push(on.rps / off.rps);
    offCpu.push(off.cpu);
  }
}

// Every event put in an "on" phase (the request event and the handler's) reached the store.
for (const { variant, child } of servers) {
  if (variant !== "events-forward" && !variant.startsWith("floor")) continue;
  const { stats } = await ask<{ stats: { sent: number; overflowed: number; dropped: number; handledOn: number } }>(
    child,
    "stats",
    "stats",
  );
  if (stats.sent !== stats.handledOn * 2 || stats.overflowed > 0 || stats.dropped > 0) {
    throw new Error(
      `${variant}: events were lost: sent ${stats.sent} for ${stats.handledOn} requests, overflowed ${stats.overflowed}, dropped ${stats.dropped}`,
    );
  }
}

/**
 * Whose code each package's own work runs in, to sum its self time in the "on" phases: a sum of
 * samples, not a difference of two noisy phases. events-forward's sending is undici's.
 */
const UNDICI = { label: "undici (sending the batches)", pattern: /undici/ };
const FLOOR_CODE = [{ label: "the floor's own code (lib/floor-forwarder.ts)", pattern: /floor-forwarder/ }, UNDICI];
const OWN_CODE: Partial<Record<Variant, { label: string; pattern: RegExp }[]>> = {
  "events-forward": [
    // Not the dictionary-mode switch: on Express the "off" phase makes it too, from the same file.
    { label: "events-forward's own code (src/)", pattern: /(^|\s)src\/(?!http\/express-objects)/ },
    UNDICI,
  ],
  floor: FLOOR_CODE,
  "floor-concat": FLOOR_CODE,
  morgan: [
    {
      label: "morgan's own code and its dependencies",
      pattern: /morgan\/|on-finished\/|on-headers\/|basic-auth\/|depd\/|ee-first\//,
    },
  ],
};

/**
 * For a variant's first process: prints the functions whose self time (µs per request) the
 * middleware adds and the package's own functions; returns the own-code sums and the GC's share.
 */
async function profiled(variant: Variant): Promise<[string, number][]> {
  const child = servers.find((s) => s.variant === variant)!.child;
  const dir = mkdtempSync(join(tmpdir(), "switched-profile-"));
  const selfUs = { on: new Map<string, number>(), off: new Map<string, number>() };
  const cpu = { on: 0, off: 0 };
  for (let i = 0; i < 4; i++) {
    for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
      const key = on ? "on" : "off";
      await ask(child, "profile-start", "profiling");
      const run = await phase(child, on, 2);
      const path = join(dir, `${key}-${i}.cpuprofile`);
      await ask(child, `profile-stop:${path}`, "saved");
      cpu[key] += run.cpu / 4;
      const { totalUs, functions } = summarize(path);
      const busy = totalUs - (functions.find((f) => f.name === "(idle)")?.selfUs ?? 0);
      // Each function's share of the phase's busy time, as µs of the phase's CPU per request.
      for (const f of functions) {
        if (f.name === "(idle)") continue;
        const name = f.name.replace(/:\d+$/, "");
        selfUs[key].set(name, (selfUs[key].get(name) ?? 0) + (f.selfUs / busy) * (run.cpu / 4));
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const names = new Set([...selfUs.on.keys(), ...selfUs.off.keys()]);
  const diff: [string, number][] = [...names].map((n) => [n, (selfUs.on.get(n) ?? 0) - (selfUs.off.get(n) ?? 0)]);
  diff.sort((a, b) => b[1] - a[1]);
  console.log(
    `\n${variant}, profiled (sampling inflates CPU): ${fmt(cpu.on, 1)} µs per request on, ${fmt(cpu.off, 1)} off; the functions it adds most self time to, µs per request:`,
  );
  printTable([["function", "added µs/req"], ...diff.slice(0, 20).map(([n, us]) => [n, fmt(us, 2)])]);
  const own = (OWN_CODE[variant] ?? []).map(({ label, pattern }): [string, number] => [
    label,
    [...selfUs.on].filter(([n]) => pattern.test(n)).reduce((sum, [, us]) => sum + us, 0),
  ]);
  own.push(["garbage collector, on - off", diff.find(([n]) => n === "(garbage collector)")?.[1] ?? 0]);
  const mine = [...selfUs.on]
    .filter(([n]) => (OWN_CODE[variant] ?? []).some(({ pattern }) => pattern.test(n)))
    .sort((a, b) => b[1] - a[1]);
  printTable([
    ["its own functions, self time in the on phases", "µs/req"],
    ...mine.slice(0, 25).map(([n, us]) => [n, fmt(us, 2)]),
  ]);
  printTable([["self time in the on phases", "µs/req"], ...own.map(([label, us]) => [label, fmt(us, 2)])]);
  return own;
}

const PROFILED = (["events-forward", "floor", "floor-concat", "morgan"] as const).filter((v) => VARIANTS.includes(v));
const profiles: [string, number][][] = [];
if (profile) for (const variant of PROFILED) profiles.push(await profiled(variant));
for (const { child } of servers) await child.stop();
await sink.stop();

const addedOf = (v: Variant) => median(added.get(v)!);
console.log(
  `\n${title}, switched in one process: ${rounds} rounds of ${seconds} s on and off per process, ${copies} processes per variant; the app without middleware: ${fmt(median(offCpu), 1)} µs CPU per request`,
);
printTable([
  ["variant", "added CPU µs/req", "lowest round", "highest round", "req/s on / off"],
  ...VARIANTS.map((v) => [
    v,
    fmt(addedOf(v), 1),
    fmt(Math.min(...added.get(v)!), 1),
    fmt(Math.max(...added.get(v)!), 1),
    fmt(median(ratios.get(v)!), 3),
  ]),
]);
const ours = addedOf("events-forward");
const floors = `the floors: JSON.stringify ${fmt(addedOf("floor"), 1)}, concatenation ${fmt(addedOf("floor-concat"), 1)}`;
const headline = onKoa
  ? `Koa 3, switched: events-forward adds ${fmt(ours, 1)} µs CPU a request (${floors}); morgan ${fmt(addedOf("morgan"), 1)} (to a file ${fmt(addedOf("morgan-file"), 1)}); pino-http ${fmt(addedOf("pino-http"), 1)}`
  : `${title}, switched: events-forward adds ${fmt(ours, 1)} µs CPU a request to the dictionary-mode app (${floors}); req/s ${fmt(median(ratios.get("events-forward")!), 3)} of it`;
console.log(headline);
const metrics: Record<string, number> = { off_cpu_us: median(offCpu) };
for (const v of VARIANTS) {
  metrics[`${v}_added_cpu_us`] = addedOf(v);
  metrics[`${v}_ratio`] = median(ratios.get(v)!);
}
const targets = onKoa
  ? [
      {
        label: `koa, switched: events-forward adds <= half of morgan's CPU (${fmt(ours, 1)} vs ${fmt(addedOf("morgan"), 1)} µs)`,
        met: ours <= addedOf("morgan") / 2,
      },
      {
        label: `koa, switched: events-forward adds less CPU than pino-http (${fmt(ours, 1)} vs ${fmt(addedOf("pino-http"), 1)} µs)`,
        met: ours < addedOf("pino-http"),
      },
    ]
  : [
      {
        label: `${framework}, switched: events-forward >= 0.92 of the dictionary-mode app's req/s (${fmt(median(ratios.get("events-forward")!), 3)})`,
        met: median(ratios.get("events-forward")!) >= 0.92,
      },
    ];
report({
  name: onKoa ? "switched-overhead" : `switched-overhead-${framework}`,
  metrics,
  targets,
  notes: [
    headline,
    ...profiles.map(
      (own, i) => `${PROFILED[i]}, profiled: ${own.map(([label, us]) => `${label} ${fmt(us, 2)} µs`).join("; ")}`,
    ),
  ],
});
