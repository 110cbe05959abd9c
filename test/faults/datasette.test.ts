// Fault injection against a real Datasette: stopped and started, or behind a fault-injecting
// proxy (test/helpers/test-store.ts with an upstream). Every test reads the table back and
// accounts for every event put: delivered exactly once, or dropped with Datasette's own reason.
import { afterEach, expect, test } from "vitest";
import { datasetteRowSerializer, type EventsForwardOptions, type Serializer } from "../../src/index.js";
import { expectAccounted, type Table } from "../helpers/accounting.js";
import { useDatasette } from "../helpers/servers.js";
import { EIGHT_COLUMNS } from "../helpers/row-format.js";
import { forwardTo, logged, names, type Harness } from "../helpers/forward-to.js";
import { TestStore } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

const t = useDatasette();
let h: Harness | undefined;
let proxy: TestStore | undefined;
let tables = 0;

afterEach(async () => {
  await h?.events.close({ timeoutMs: 1_000 });
  h = undefined;
  await proxy?.stop();
  proxy = undefined;
  if (!t.ds.running) await t.ds.serve();
});

/** A forwarder into a fresh table, straight to Datasette or through a fault-injecting proxy. */
async function forwarder(options: EventsForwardOptions & { viaProxy?: boolean } = {}): Promise<{ table: string }> {
  const { viaProxy, ...rest } = options;
  const table = `faults_${++tables}`;
  if (viaProxy) proxy = await new TestStore(t.ds.url).start();
  const target = proxy ?? { url: () => t.ds.createUrl };
  h = forwardTo(target, {
    apiToken: t.ds.rootToken,
    table,
    requestTimeoutMs: 5_000,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
    ...rest,
  });
  return { table };
}

/** The table's events, in id (so put) order, as the accounting wants them. */
async function readBack(table: string): Promise<Table> {
  const rows = (await t.ds.tableExists(table)) ? await t.ds.rows(table) : [];
  const events = rows.map((row) => String(row.event));
  return { events: () => events };
}

function putAll(list: string[]): void {
  for (const event of list) h!.events.put({ event });
}

const settled = (n: number) => () => h!.events.stats().sent + h!.events.stats().dropped >= n;

test("Datasette down at start: events wait, then land exactly once", async () => {
  await t.ds.stop();
  const { table } = await forwarder({ batchLimit: 4 });
  const list = names("e", 10);
  putAll(list);
  await waitFor(() => h!.events.stats().failedRequests >= 2, { what: "refused connections" });
  await t.ds.serve();
  await waitFor(settled(10), { what: "every event settled", timeoutMs: 20_000 });
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
});

test("Datasette stopped and started again mid-stream: nothing lost, nothing doubled", async () => {
  const { table } = await forwarder({ batchLimit: 3 });
  const list = names("e", 24);
  for (const [i, event] of list.entries()) {
    h!.events.put({ event });
    if (i === 8) {
      await waitFor(() => h!.events.stats().sent >= 3, { what: "a first delivery" });
      await t.ds.stop();
    }
    if (i === 16) await t.ds.serve();
  }
  await waitFor(settled(24), { what: "every event settled", timeoutMs: 20_000 });
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
});

test("slow Datasette: a write whose answer came after the timeout is retried and kept once", async () => {
  const { table } = await forwarder({ viaProxy: true, batchLimit: 5, requestTimeoutMs: 1_000 });
  proxy!.behave = (_, i) => (i === 0 ? { accept: true, delayMs: 2_500 } : { accept: true });
  const list = names("e", 10);
  putAll(list);
  await h!.events.flush();
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
  expect(proxy!.requests[1]!.body).toBe(proxy!.requests[0]!.body); // the same batch, sent twice
  expect(logged(h!, /timed out/, "warn")).toHaveLength(1);
});

test("500s: a short run is ridden out; a longer one halves that batch, whose halves get through", async () => {
  const { table } = await forwarder({ viaProxy: true, batchLimit: 2, maxAttempts: 3 });
  proxy!.behave = (_, i) => ([1, 2, 4, 5, 6].includes(i) ? { status: 500 } : { accept: true });
  const list = names("e", 8);
  putAll(list);
  await h!.events.flush();
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
  expect(proxy!.requests.map((r) => r.rows.length)).toEqual([2, 2, 2, 2, 2, 2, 2, 1, 1, 2]);
});

test("429 with Retry-After: the pause is kept, nothing is dropped", async () => {
  const { table } = await forwarder({ viaProxy: true, batchLimit: 3, maxAttempts: 1 });
  proxy!.behave = (_, i) => (i === 1 ? { status: 429, headers: { "retry-after": "1" } } : { accept: true });
  const list = names("e", 9);
  putAll(list);
  await h!.events.flush();
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
  expect(proxy!.requests[2]!.at - proxy!.requests[1]!.at).toBeGreaterThanOrEqual(990);
});

test("connection reset mid-response after Datasette wrote the rows: resent, kept once", async () => {
  const { table } = await forwarder({ viaProxy: true, batchLimit: 5, maxAttempts: 3 });
  proxy!.behave = (_, i) =>
    i === 0 ? { resetAfterWrite: true } : i === 1 ? { resetBeforeWrite: true } : { accept: true };
  const list = names("e", 5);
  putAll(list);
  await h!.events.flush();
  expectAccounted(h!, await readBack(table), list, { delivered: list, dropped: [] });
  expect(proxy!.requests).toHaveLength(3);
});

/** The default row, made wrong for some events: an unknown column, or not an object at all. */
function poisoning(): Serializer {
  const row = datasetteRowSerializer("faults");
  return (event, meta) => {
    const json = row(event, meta);
    const name = (event as { event: string }).event;
    if (name === "poison-column") return JSON.stringify({ ...(JSON.parse(json) as object), bogus: 1 });
    if (name === "poison-shape") return JSON.stringify(["not", "a", "row"]);
    return json;
  };
}

test("poison rows in a batch, on an /-/insert URL: good rows land, each bad one is dropped with Datasette's message", async () => {
  const table = `faults_${++tables}`;
  await t.ds.postJson(`/${t.ds.database}/-/create`, {
    table,
    pk: "id",
    columns: EIGHT_COLUMNS.map((name) => ({ name, type: "text" })),
  });
  h = forwardTo(
    { url: () => t.ds.insertUrl(table) },
    { apiToken: t.ds.rootToken, batchLimit: 10, serializer: poisoning() },
  );
  const list = ["a-0", "a-1", "poison-column", "a-2", "a-3", "a-4", "poison-shape", "a-5", "a-6", "a-7"];
  putAll(list);
  await h.events.flush();
  const good = list.filter((e) => !e.startsWith("poison"));
  const back = await readBack(table);
  // The shape poison is not a JSON object: refused before it joins a body (issue 28), and
  // accounted for by its own text; the column poison is Datasette's to refuse.
  expect(h.drops.map((d) => d.events.length)).toEqual([1, 1]);
  expect(h.drops[0]!.reason).toBe("Datasette answered HTTP 400: Row 0 has invalid columns: bogus");
  expect(h.drops[1]!.reason).toBe("refused before sending: the event's text is not a JSON object");
  expect(h.drops[1]!.events).toEqual(['["not","a","row"]']);
  expect(back.events()).toEqual(good);
  expect(h.events.stats()).toMatchObject({ sent: 8, dropped: 2, queued: 0 });
});

test("a lone surrogate: the default row makes it U+FFFD and Datasette takes it", async () => {
  const { table } = await forwarder();
  h!.events.put({ event: "lone \ud800 surrogate", properties: { s: "x\udc00" } });
  h!.events.put({ event: "after" });
  await h!.events.flush();
  const rows = await t.ds.rows(table);
  expect(rows.map((row) => row.event)).toEqual(["lone \ufffd surrogate", "after"]);
  expect(h!.drops).toEqual([]);
});
