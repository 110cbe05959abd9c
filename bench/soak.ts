/**
 * The soak: an Express app (bench/soak-app.ts, its own process) under a steady 500 requests/s for
 * 10 minutes into a real Datasette, once per queue kind (memory, SQLite spool, Redis spool), with
 * Datasette stopped for 30 s in the middle. Each request is a request event and one put(): 1,000
 * events/s. Every minute (and as the outage begins, as the load ends, after the drain) it samples the app's
 * heap (after a full GC) and RSS, its open file descriptors, its event-loop delay p99 and the
 * forwarder's counters; at the end it counts the rows in Datasette.
 *
 * Goals: every event once (rows = distinct ids = events put; nothing dropped or refused); heap and
 * RSS as the load ends (long after the outage, same load) within 10% of their level as the outage
 * began; no more descriptors as the load ends than the most seen before the outage (the load's
 * sockets come and go between samples).
 *
 *   npx tsx bench/soak.ts [--minutes 10] [--rate 500] [--outage-seconds 30] [--kinds memory,sqlite,redis]
 *
 * Not part of `npm test` nor of `npm run bench` (a full run takes over half an hour).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { DatasetteServer } from "../test/helpers/datasette.js";
import { ensureDatasetteVenv } from "../test/helpers/datasette-venv.js";
import { RedisServer } from "../test/helpers/redis-server.js";
import { report } from "./lib/args.js";
import { forkWithPort, type Child } from "./lib/processes.js";
import { fmt, printTable } from "./lib/stats.js";
import type { Sample } from "./soak-app.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "500" },
    "outage-seconds": { type: "string", default: "30" },
    kinds: { type: "string", default: "memory,sqlite,redis" },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const OUTAGE_MS = Number(values["outage-seconds"]) * 1000;
const KINDS = values.kinds.split(",") as Kind[];
type Kind = "memory" | "sqlite" | "redis";
for (const [name, value] of [
  ["--minutes", MINUTES],
  ["--rate", RATE],
  ["--outage-seconds", OUTAGE_MS],
] as const)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
for (const kind of KINDS)
  if (!["memory", "sqlite", "redis"].includes(kind)) throw new Error(`--kinds: unknown kind ${kind}`);
const DURATION_MS = MINUTES * 60_000;
/** Requests the load keeps open at most: it falls behind its schedule rather than pile up. */
const MAX_OPEN = 64;

interface Labelled extends Sample {
  at: string;
}

/** Asks the app a question over IPC and waits for its answer. */
let asked = 0;
function ask<T>(app: Child, question: string, timeoutMs?: number): Promise<T> {
  const id = ++asked;
  return new Promise((resolve) => {
    const onMessage = (message: { id?: number; answer?: T }) => {
      if (message.id !== id) return;
      app.process.off("message", onMessage);
      resolve(message.answer as T);
    };
    app.process.on("message", onMessage);
    app.process.send({ ask: question, id, timeoutMs });
  });
}

/** A steady load of RATE requests/s until `until` (ms, performance.now()); resolves when every request is answered. */
async function steadyLoad(url: string, until: number): Promise<{ sent: number; failed: number }> {
  const agent = new Agent({ connections: MAX_OPEN, keepAliveTimeout: 10_000 });
  const start = performance.now();
  let sent = 0;
  let open = 0;
  let failed = 0;
  const answered = new Set<Promise<void>>();
  try {
    while (performance.now() < until) {
      const due = Math.floor(((performance.now() - start) * RATE) / 1000);
      while (sent < due && open < MAX_OPEN) {
        const n = sent++;
        open++;
        const done: Promise<void> = request(`${url}/hit/${n}`, { dispatcher: agent })
          .then(async (response) => {
            await response.body.text();
            if (response.statusCode !== 200) failed++;
          })
          .catch(() => void failed++)
          .finally(() => {
            open--;
            answered.delete(done);
          });
        answered.add(done);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(answered);
    return { sent, failed };
  } finally {
    await agent.close();
  }
}

interface Run {
  kind: Kind;
  samples: Labelled[];
  put: number;
  rows: number;
  ids: number;
  /** Accepted and never acknowledged: dropped, or left at close. */
  undelivered: number;
  refused: number;
  failedRequests: number;
  loadRate: number;
}

async function soak(kind: Kind): Promise<Run> {
  const datasette = await DatasetteServer.start({ database: "soak" });
  const dir = mkdtempSync(join(tmpdir(), "events-forward-soak-"));
  const redis = kind === "redis" ? await RedisServer.start() : undefined;
  const table = `soak_${kind}`;
  const spool =
    kind === "sqlite" ? join(dir, "spool.db") : kind === "redis" ? { url: redis!.url, key: "soak" } : undefined;
  const options = {
    apiUrl: datasette.createUrl,
    apiToken: datasette.rootToken,
    table,
    ...(spool === undefined ? { maxQueueSize: 100_000 } : { spool }),
  };
  const app = await forkWithPort(
    fileURLToPath(new URL("./soak-app.ts", import.meta.url)),
    [JSON.stringify(options)],
    ["--expose-gc"],
  );
  const samples: Labelled[] = [];
  const take = async (at: string) => {
    const s = { at, ...(await ask<Sample>(app, "sample")) };
    samples.push(s);
    console.log(
      `  ${kind} ${at.padEnd(16)} heap ${fmt(s.heapMB, 1)} MB, rss ${fmt(s.rssMB, 1)} MB, fds ${s.fds}, loop p99 ${fmt(s.loopDelayP99Ms, 1)} ms, queued ${s.stats.queued}, sent ${s.stats.sent}`,
    );
  };
  try {
    const start = performance.now();
    const end = start + DURATION_MS;
    const outageAt = start + DURATION_MS / 2 - OUTAGE_MS / 2;
    const timers: NodeJS.Timeout[] = [];
    const later = (at: number, fn: () => Promise<void>) =>
      new Promise<void>((resolve, reject) =>
        timers.push(setTimeout(() => fn().then(resolve, reject), Math.max(0, at - performance.now()))),
      );
    const scheduled = [
      ...Array.from({ length: Math.floor(MINUTES) }, (_, i) =>
        later(start + (i + 1) * 60_000 - 50, () => take(`minute ${i + 1}`)),
      ),
      later(outageAt, async () => {
        await take("outage begins");
        await datasette.stop();
      }),
      // Compared with "outage begins": both under the same load, the second after the backlog drained.
      later(end - 200, () => take("load ends")),
      later(outageAt + OUTAGE_MS, async () => {
        await datasette.serve();
        console.log(`  ${kind} Datasette back`);
        // The backlog of the outage drains beside the load: note when it is down to a few batches.
        while (performance.now() < end - 1_000) {
          const { stats } = await ask<Sample>(app, "peek");
          if (stats.queued < 1_000) {
            await take("caught up");
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }),
    ];
    const load = await steadyLoad(`http://127.0.0.1:${app.port}`, end);
    await Promise.all(scheduled);
    const loadRate = load.sent / ((performance.now() - start) / 1000);
    await ask<Sample>(app, "drain", 180_000);
    await take("after the drain");
    const closed = await ask<{ delivered: number; undelivered: number }>(app, "close");
    const last = samples.at(-1)!;
    const [row] = await datasette.query(`select count(*) as n, count(distinct id) as ids from ${table}`);
    return {
      kind,
      samples,
      // Each request put two events (its request event and one of its own); refused puts count in overflowed.
      put: 2 * last.handled - last.stats.overflowed,
      rows: Number(row!.n),
      ids: Number(row!.ids),
      undelivered: closed.undelivered,
      refused: last.stats.overflowed,
      failedRequests: load.failed,
      loadRate,
    };
  } finally {
    await app.stop();
    await datasette.dispose();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await ensureDatasetteVenv();
console.log(
  `soak: ${RATE} requests/s (${2 * RATE} events/s) for ${MINUTES} min per queue kind, Datasette stopped for ${OUTAGE_MS / 1000} s in the middle`,
);
const runs: Run[] = [];
for (const kind of KINDS) runs.push(await soak(kind));

const metrics: Record<string, number> = {};
const targets: { label: string; met: boolean }[] = [];
const rows = [
  [
    "kind",
    "load req/s",
    "put",
    "rows",
    "distinct ids",
    "undelivered",
    "refused",
    "heap before → after",
    "rss before → after",
    "fds before → after",
    "loop p99 max",
  ],
];
for (const run of runs) {
  const before = run.samples.find((s) => s.at === "outage begins")!;
  const after = run.samples.find((s) => s.at === "load ends")!;
  // Heap, RSS and descriptors compare two moments under the same load; a run too short for the
  // backlog to drain before the load ends cannot tell (the backlog itself takes memory).
  const caughtUp = run.samples.some((s) => s.at === "caught up");
  if (!caughtUp)
    console.log(
      `  note: ${run.kind}: the outage's backlog had not drained when the load ended: run longer for the memory goals`,
    );
  const loopMax = Math.max(...run.samples.map((s) => s.loopDelayP99Ms));
  // The app's descriptors include the load's sockets, which come and go between samples (37 to 40
  // in a run): growth is more than the most seen before the outage, under the same load.
  const fdCeiling = Math.max(...run.samples.slice(0, run.samples.indexOf(before) + 1).map((s) => s.fds));
  rows.push([
    run.kind,
    fmt(run.loadRate),
    String(run.put),
    String(run.rows),
    String(run.ids),
    String(run.undelivered),
    String(run.refused),
    `${fmt(before.heapMB, 1)} → ${fmt(after.heapMB, 1)} MB`,
    `${fmt(before.rssMB, 1)} → ${fmt(after.rssMB, 1)} MB`,
    `${before.fds} → ${after.fds} (most before: ${fdCeiling})`,
    `${fmt(loopMax, 1)} ms`,
  ]);
  metrics[`${run.kind}_heap_ratio`] = after.heapMB / before.heapMB;
  metrics[`${run.kind}_rss_ratio`] = after.rssMB / before.rssMB;
  metrics[`${run.kind}_fd_growth`] = after.fds - fdCeiling;
  metrics[`${run.kind}_loop_p99_max_ms`] = loopMax;
  targets.push(
    {
      label: `${run.kind}: every event once (rows = ids = put; nothing dropped, refused or failed)`,
      met:
        run.rows === run.put &&
        run.ids === run.put &&
        run.undelivered === 0 &&
        run.refused === 0 &&
        run.failedRequests === 0,
    },
    {
      label: `${run.kind}: heap after the outage within 10% of before`,
      met: caughtUp && after.heapMB <= before.heapMB * 1.1,
    },
    {
      label: `${run.kind}: RSS after the outage within 10% of before`,
      met: caughtUp && after.rssMB <= before.rssMB * 1.1,
    },
    {
      label: `${run.kind}: no growth in file descriptors (no more than the most before the outage)`,
      met: caughtUp && after.fds <= fdCeiling,
    },
  );
  if (run.loadRate < RATE * 0.95)
    console.log(`  note: ${run.kind}: the load reached ${fmt(run.loadRate)} requests/s of ${RATE} (a busy machine)`);
}
console.log();
printTable(rows);
for (const target of targets) console.log(`  ${target.met ? "met " : "MISS"}  ${target.label}`);
report({
  name: "soak",
  metrics,
  targets,
  notes: [`${MINUTES} min per kind at ${RATE} requests/s, outage ${OUTAGE_MS / 1000} s`],
});
