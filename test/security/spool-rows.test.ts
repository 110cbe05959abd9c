import { join } from "node:path";
import Database from "../helpers/sqlite-file.js";
import { afterEach, describe, expect, test } from "vitest";
import { eventsForward, type EventsForward } from "../../src/index.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { TestStore } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";
import { FAST } from "../helpers/fast-options.js";

// Issue 28, item 2: whoever can write to a spool (a process with publisher: false, any client of
// the Redis server) must not be able to add keys of their own to the publisher's signed request.

const tempDir = useTempDirs();
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** A row that closes the `rows` array and adds keys of its own, as it would be joined into the body. */
const INJECTED = '{"id":"01J0000000000000000000000X"}],"table":"users","replace":true,"rows":[{"id":"x"}';

function goodRow(id: string): string {
  return JSON.stringify({
    id,
    instance: "test",
    event: "fine",
    created: "2026-12-01T12:00:00+00:00",
    actor_id: null,
    database_name: null,
    table_name: null,
    properties: "{}",
  });
}

/** Rows that are not one JSON object of the row's shape, and why each must be refused. */
const BAD_ROWS = [
  INJECTED,
  "[1,2,3]",
  '"text"',
  JSON.stringify({ ...JSON.parse(goodRow("01J000000000000000000000B1")), replace: true }),
  JSON.stringify({ ...JSON.parse(goodRow("01J000000000000000000000B2")), properties: { not: "text" } }),
  '{"id":"01J000000000000000000000B3"',
];

async function store(): Promise<TestStore> {
  const started = await new TestStore().start();
  closing.push(() => started.stop());
  return started;
}

function publisher(options: object, url: string): EventsForward {
  const events = eventsForward({ apiUrl: url, ...FAST, requestEvents: false, logger: false, ...options });
  closing.push(() => events.close({ timeoutMs: 1_000 }));
  return events;
}

/** Every body the store received is one JSON object with the sink's own keys and the table it names. */
function expectOnlyOwnKeys(s: TestStore): void {
  for (const request of s.requests) {
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["ignore", "pk", "rows", "table"]);
    expect(body.table).toBe("datasette_events");
    expect(request.body).not.toContain('"replace"');
  }
}

describe("rows read from a spool", () => {
  test("SQLite: a row that is not one JSON object of the row's shape goes to dead letters, the rest is sent", async () => {
    const s = await store();
    const path = join(tempDir(), "spool.db");
    // The spool's schema made by a writer, then rows written by someone without the token.
    const writer = publisher({ spool: { path }, publisher: false }, s.url());
    writer.put({ event: "own" });
    await writer.flush();
    const db = new Database(path);
    const insert = db.prepare("INSERT INTO outbox (json, bytes) VALUES (?, ?)");
    insert.run(goodRow("01J000000000000000000000G1"), Buffer.byteLength(goodRow("01J000000000000000000000G1")));
    for (const row of BAD_ROWS) insert.run(row, Buffer.byteLength(row));
    db.close();

    const events = publisher({ spool: { path } }, s.url());
    await waitFor(() => events.stats().sent + events.stats().dropped >= 2 + BAD_ROWS.length, { what: "every row" });
    expectOnlyOwnKeys(s);
    expect(
      s
        .deliveredRows()
        .map((r) => r.event)
        .sort(),
    ).toEqual(["fine", "own"]);
    expect(events.stats().dropped).toBe(BAD_ROWS.length);
    await events.close();
    const letters = new SqliteDeadLetters(path, 1_000, { warn() {}, error() {} }, "spool");
    const kept = await letters.list({});
    await letters.close();
    expect(kept.map((d) => d.json).sort()).toEqual([...BAD_ROWS].sort());
    for (const letter of kept) {
      expect(letter.reason).toBe("malformed");
      expect(letter.answer).toMatch(
        /^refused before sending: the event's text is not (JSON|a JSON object|a row of the table)/,
      );
    }
    expect(kept.find((d) => d.json.endsWith('"replace":true}'))?.answer).toContain('unknown column "replace"');
  });

  test("Redis: a row another client pushed is refused the same way", async () => {
    const s = await store();
    const redis = await RedisServer.start();
    closing.push(() => redis.dispose());
    const spool = { url: redis.url, key: "inject", pollMs: 20 };
    const drops: string[][] = [];
    // Rows pushed straight into the outbox by any client of the server.
    await redis.cli("RPUSH", "{inject}:events", goodRow("01J000000000000000000000G2"), ...BAD_ROWS);
    const events = publisher({ spool, onDrop: (dropped: string[]) => drops.push(dropped) }, s.url());
    await waitFor(() => events.stats().sent + events.stats().dropped >= 1 + BAD_ROWS.length, { what: "every row" });
    expectOnlyOwnKeys(s);
    expect(s.deliveredRows().map((r) => r.event)).toEqual(["fine"]);
    expect(drops.flat().sort()).toEqual([...BAD_ROWS].sort());
  });
});
