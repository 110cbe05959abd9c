/**
 * What `"return": true` costs on Datasette's insert API: the only way its answer tells which rows
 * it stored (with `"ignore": true`, SQLite's INSERT OR IGNORE also skips rows that break a NOT
 * NULL or CHECK constraint, and Datasette still answers 201). Bodies of 100 rows (its
 * max_insert_rows), one request in flight, to a real Datasette; rounds alternate the two in a
 * random order; score: the median over rounds of the ratio of events/s with and without it.
 *   node --import tsx bench/datasette-return.ts [--quick]
 */
import { Agent, request } from "undici";
import { DatasetteServer } from "../test/helpers/datasette.js";
import { ensureDatasetteVenv } from "../test/helpers/datasette-venv.js";
import { pick, report } from "./lib/args.js";
import { datasetteRowSerializer } from "./lib/package.js";
import { EVENT_NAME, USER_ID, eventProperties } from "./lib/payload.js";
import { fmt, median, printTable, shuffled } from "./lib/stats.js";

const BATCH = 100;
const n = pick(5_000, 1_000);
const rounds = pick(10, 3);
await ensureDatasetteVenv();
const server = await DatasetteServer.start({ database: "bench" });
const headers = { "content-type": "application/json", authorization: `Bearer ${server.rootToken}` };
const serialize = datasetteRowSerializer("bench");
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });
let table = 0;

/** Posts n fresh rows in batches to a table of its own; returns events per second and the answers' bytes. */
async function run(returning: boolean): Promise<{ perSecond: number; answerBytes: number }> {
  const name = `t${table++}`;
  await server.postJson(`/bench/-/create`, {
    table: name,
    pk: "id",
    ignore: true,
    rows: [JSON.parse(serialize({ event: "first" }, {}))],
  });
  const bodies: string[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const rows: string[] = [];
    for (let j = i; j < i + BATCH; j++)
      rows.push(serialize({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(j) }, {}));
    bodies.push(`{"ignore":true,${returning ? '"return":true,' : ""}"rows":[${rows.join(",")}]}`);
  }
  let answerBytes = 0;
  const start = performance.now();
  for (const body of bodies) {
    const response = await request(server.insertUrl(name), { method: "POST", dispatcher: agent, headers, body });
    const text = await response.body.text();
    if (response.statusCode !== 201) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    answerBytes += text.length;
  }
  return { perSecond: (n * 1000) / (performance.now() - start), answerBytes: answerBytes / bodies.length };
}

await run(true); // warm-up
const ratios: number[] = [];
const plain: number[] = [];
const returned: number[] = [];
const answerBytes = { plain: 0, returning: 0 };
for (let r = 0; r < rounds; r++) {
  const results: Record<string, number> = {};
  for (const returning of shuffled([false, true])) {
    const result = await run(returning);
    results[String(returning)] = result.perSecond;
    answerBytes[returning ? "returning" : "plain"] = result.answerBytes;
  }
  plain.push(results.false!);
  returned.push(results.true!);
  ratios.push(results.true! / results.false!);
}
await agent.close();
await server.dispose();
console.log(`\nDatasette insert, ${n} events in batches of ${BATCH}, ${rounds} rounds`);
printTable([
  ["body", "median events/s", "answer bytes per batch"],
  ['"ignore": true', fmt(median(plain)), fmt(answerBytes.plain)],
  ['"ignore": true, "return": true', fmt(median(returned)), fmt(answerBytes.returning)],
]);
console.log(`"return": true keeps ${fmt(median(ratios) * 100, 0)}% of the throughput (median of per-round ratios)`);
report({
  name: "datasette-return",
  metrics: { plain_per_s: median(plain), return_per_s: median(returned), ratio: median(ratios) },
  targets: [],
});
