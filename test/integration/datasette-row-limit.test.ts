// batchLimit above Datasette's max_insert_rows: the forwarder learns the limit from the refusal.
// Datasette 1.0a41 checks max_insert_rows on /<table>/-/insert only (its /-/create takes any
// number of rows), so these tests write through insert URLs.
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { DatasetteServer, numbers, range } from "../helpers/datasette.js";
import { FAST } from "../helpers/fast-options.js";
import { EIGHT_COLUMNS } from "../helpers/row-format.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { rowIds, startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy.js";

let ds: DatasetteServer;
let roomy: DatasetteServer;
let proxy: RecordingProxy | undefined;
let events: EventsForward | undefined;

beforeAll(async () => {
  [ds, roomy] = await Promise.all([
    DatasetteServer.start(),
    DatasetteServer.start({ settings: { max_insert_rows: 1000 } }),
  ]);
});
afterEach(async () => {
  await events?.close({ timeoutMs: 1_000 });
  events = undefined;
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await Promise.all([ds?.dispose(), roomy?.dispose()]);
});

/** A forwarder into a fresh table of `server` (made with the eight columns), putting `count` events. */
async function forwardInto(
  server: DatasetteServer,
  table: string,
  count: number,
  options: EventsForwardOptions,
): Promise<void> {
  await server.postJson(`/${server.database}/-/create`, {
    table,
    pk: "id",
    columns: EIGHT_COLUMNS.map((name) => ({ name, type: "text" })),
  });
  events = eventsForward({ ...FAST, instance: "row-limit", apiToken: server.rootToken, ...options });
  for (const n of range(count)) events.put({ event: "tick", properties: { n } });
  await events.flush();
}

it("cuts batches to Datasette's default max_insert_rows (100) after the first refusal: nothing dropped, one warning", async () => {
  proxy = await startRecordingProxy(ds.url);
  const apiUrl = `${proxy.url}/${ds.database}/capped/-/insert`;
  const logger = recordingLogger();
  await forwardInto(ds, "capped", 600, { apiUrl, batchLimit: 250, logger });

  const rows = await ds.rows("capped");
  expect(numbers(rows)).toEqual(range(600));
  expect(new Set(rows.map((row) => row.id)).size).toBe(600);
  // The first batch of 250 is refused once, then goes as 100 + 100 + 50; every later batch is at most 100.
  const sent = proxy.requests.map((request) => [rowIds(request.body).length, request.status]);
  expect(sent).toEqual([
    [250, 400],
    [100, 201],
    [100, 201],
    [50, 201],
    [100, 201],
    [100, 201],
    [100, 201],
    [50, 201],
  ]);
  // Each row went in exactly one accepted request.
  const accepted = proxy.requests
    .filter((request) => request.status === 201)
    .flatMap((request) => rowIds(request.body));
  expect(accepted).toHaveLength(600);
  expect(new Set(accepted)).toEqual(new Set(rows.map((row) => row.id)));
  expect(events!.stats()).toMatchObject({ sent: 600, dropped: 0, failedRequests: 1, requests: 8 });
  expect(logger.messages).toEqual([
    `warn: Datasette ${apiUrl} accepts at most 100 rows per write (its max_insert_rows setting); batches are cut to 100 rows: lower batchLimit, or raise max_insert_rows`,
  ]);
});

it("sends 1000 events in one request to a Datasette run with --setting max_insert_rows 1000", async () => {
  const logger = recordingLogger();
  await forwardInto(roomy, "roomy", 1000, { apiUrl: roomy.insertUrl("roomy"), batchLimit: 1000, logger });

  const rows = await roomy.rows("roomy");
  expect(numbers(rows)).toEqual(range(1000));
  expect(new Set(rows.map((row) => row.id)).size).toBe(1000);
  expect(events!.stats()).toMatchObject({ sent: 1000, dropped: 0, failedRequests: 0, requests: 1 });
  expect(logger.messages).toEqual([]);
});
