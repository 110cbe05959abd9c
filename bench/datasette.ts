/**
 * Benchmark 4: events per second into a real Datasette, events-forward against Datasette's own
 * ceiling: a plain undici client posting ready-made bodies of the same rows, the same batch size
 * (100, Datasette's max_insert_rows), one request in flight, to the same table. Rounds alternate
 * the two in a random order; score: the median over rounds of events-forward's events/s against
 * the ceiling's in the same round (a pair that ran seconds apart, so the machine's drift between
 * rounds cancels out).
 */
import { Agent, request } from "undici";
import { DatasetteServer } from "../test/helpers/datasette.js";
import { ensureDatasetteVenv, installedDatasetteVersion } from "../test/helpers/datasette-venv.js";
import { pick, quick, report } from "./lib/args.js";
import { datasetteRowSerializer, eventsForward } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./lib/payload.js";
import { fmt, median, printTable, shuffled, spread } from "./lib/stats.js";

const TABLE = "datasette_events";
const BATCH = 100;
const n = pick(5_000, 2_000);
const rounds = pick(20, 4);

if (quick && installedDatasetteVersion() === undefined) {
  console.log("\ndatasette: skipped (no .venv with Datasette 1.x: run `npm run setup:datasette`)");
  report({ name: "datasette", metrics: {}, targets: [], notes: ["skipped: no Datasette virtualenv"] });
  process.exit(0);
}
const version = await ensureDatasetteVenv();
const server = await DatasetteServer.start({ database: "bench" });
const insertUrl = server.insertUrl(TABLE);
const headers = { "content-type": "application/json", authorization: `Bearer ${server.rootToken}` };

// Create the table with one row, the way the package's /-/create would.
const serialize = datasetteRowSerializer("bench");
const input = (i: number) => ({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) });
await server.postJson(`/bench/-/create`, {
  table: TABLE,
  pk: "id",
  ignore: true,
  rows: [JSON.parse(serialize(input(0), {}))],
});

/** The ceiling: bodies built before the clock starts, posted one after another. */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 2 });
async function plainClient(events: number): Promise<number> {
  const bodies: string[] = [];
  for (let i = 0; i < events; i += BATCH) {
    const rows: string[] = [];
    for (let j = i; j < Math.min(events, i + BATCH); j++) rows.push(serialize(input(j), {}));
    bodies.push(`{"ignore":true,"rows":[${rows.join(",")}]}`);
  }
  const start = performance.now();
  for (const body of bodies) {
    const response = await request(insertUrl, { method: "POST", dispatcher: agent, headers, body });
    const text = await response.body.text();
    if (response.statusCode !== 201)
      throw new Error(`plain client: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  return performance.now() - start;
}

const events = eventsForward({
  apiUrl: insertUrl,
  apiToken: server.rootToken,
  instance: "bench",
  batchLimit: BATCH,
  timePeriod: 0,
  maxQueueSize: n,
  logger: quietLogger,
});
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
async function viaPackage(count: number): Promise<number> {
  const sentBefore = events.stats().sent;
  const start = performance.now();
  for (let i = 0; i < count;) {
    const end = Math.min(count, i + 1000);
    for (; i < end; i++) events.put(input(i));
    await turn();
  }
  await events.flush();
  const ms = performance.now() - start;
  const stats = events.stats();
  if (stats.sent - sentBefore !== count || stats.dropped > 0)
    throw new Error(`events-forward delivered ${stats.sent - sentBefore} of ${count}, dropped ${stats.dropped}`);
  return ms;
}

async function rowCount(): Promise<number> {
  const [row] = await server.query(`select count(*) as n from ${TABLE}`);
  return Number(row!.n);
}

const contenders: Record<string, (count: number) => Promise<number>> = {
  "plain undici client": plainClient,
  "events-forward": viaPackage,
};
const perSecond = new Map<string, number[]>(Object.keys(contenders).map((c) => [c, []]));
const shares: number[] = [];
let expectedRows = 1;
try {
  for (const [, run] of Object.entries(contenders)) {
    await run(1_000); // warm-up
    expectedRows += 1_000;
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of shuffled(Object.keys(contenders))) {
      const ms = await contenders[name]!(n);
      expectedRows += n;
      perSecond.get(name)!.push((n / ms) * 1000);
    }
    shares.push(perSecond.get("events-forward")!.at(-1)! / perSecond.get("plain undici client")!.at(-1)!);
  }
  const rows = await rowCount();
  if (rows !== expectedRows) throw new Error(`the table holds ${rows} rows, expected ${expectedRows}`);
} finally {
  await events.close();
  await agent.close();
  await server.dispose();
}

const ceiling = median(perSecond.get("plain undici client")!);
const ours = median(perSecond.get("events-forward")!);
const share = median(shares);
console.log(`\ninto Datasette ${version}: ${fmt(n)} events per run in batches of ${BATCH}, ${rounds} rounds`);
printTable([
  ["contender", "median events/s", "spread", "share of the ceiling (median of rounds)"],
  ["plain undici client", fmt(ceiling), `${fmt(spread(perSecond.get("plain undici client")!) * 100)}%`, fmt(1, 3)],
  ["events-forward", fmt(ours), `${fmt(spread(perSecond.get("events-forward")!) * 100)}%`, fmt(share, 3)],
]);
report({
  name: "datasette",
  metrics: { ceiling_eps: ceiling, events_forward_eps: ours, ratio: share },
  targets: [{ label: `events-forward >= 0.9 of Datasette's ceiling (${fmt(share, 3)})`, met: share >= 0.9 }],
});
