import Database from "../../helpers/sqlite-file.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventsForward, OptionError, type EventsForward } from "../../../src/index.js";
import { sqliteSink } from "../../../src/stores/sqlite/sink.js";
import { EIGHT_TEXT_COLUMNS, SIGNUP, signupRow } from "../../helpers/row-format.js";
import { recordingLogger } from "../../helpers/recording-logger.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { assertRate, watchForwarderStarts } from "../../helpers/request-starts.js";
import { waitFor } from "../../helpers/wait.js";

const tempDir = useTempDirs();
const open: EventsForward[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((events) => events.close({ timeoutMs: 1_000 })));
});

function readRows(path: string, table = "datasette_events") {
  const db = new Database(path, { readonly: true });
  try {
    return {
      columns: db.prepare("select name, type, pk from pragma_table_info(?) order by cid").all(table),
      rows: db.prepare(`select * from "${table}" order by id`).all() as Array<Record<string, unknown>>,
    };
  } finally {
    db.close();
  }
}

describe("the embedded store", () => {
  it("is the store when no apiUrl is given: the eight columns Datasette would hold, in a local file", async () => {
    const database = join(tempDir(), "events.db");
    const events = eventsForward({ database, instance: "local-1", logger: false });
    open.push(events);
    events.put(SIGNUP);
    await events.flush();

    const { columns, rows } = readRows(database);
    expect(columns).toEqual(EIGHT_TEXT_COLUMNS);
    expect(rows).toEqual([signupRow("local-1")]);
    expect(events.stats()).toMatchObject({ sent: 1, dropped: 0, queued: 0 });
  });

  it("defaults to ./events.db in the working directory", async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const events = eventsForward({ logger: false });
      open.push(events);
      events.put({ event: "default-path" });
      await events.flush();
    } finally {
      process.chdir(cwd);
    }
    expect(readRows(join(dir, "events.db")).rows.map((row) => row.event)).toEqual(["default-path"]);
  });

  it("takes batches of up to 100, 20 a second, unless told otherwise", async () => {
    const database = join(tempDir(), "events.db");
    const watch = watchForwarderStarts();
    const events = eventsForward({ database, logger: false });
    open.push(events);
    // 2,500 events: 25 batches of 100, the first 20 at once, the other 5 a second later (no flush: it lifts the limit).
    for (let i = 0; i < 2_500; i++) events.put({ event: "bulk", properties: { n: i } });
    await waitFor(() => events.stats().sent === 2_500, { what: "every event written" });
    watch.stop();
    expect(events.stats()).toMatchObject({ sent: 2_500, requests: 25 });
    expect(watch.starts).toHaveLength(25);
    assertRate(watch.starts, 20, 1_000);
    expect(watch.starts[20]! - watch.starts[0]!).toBeGreaterThanOrEqual(980);
    expect(readRows(database).rows).toHaveLength(2_500);
  });

  it("writes a batch sent twice once (INSERT OR IGNORE on the ULID key)", async () => {
    const path = join(tempDir(), "events.db");
    const sink = sqliteSink({ path, table: "datasette_events" });
    const rows = [1, 2].map((n) => {
      const json = JSON.stringify({
        id: `01J00000000000000000000${n}AA`,
        instance: "i",
        event: "e",
        created: "2026-01-01T00:00:00.000Z",
        properties: "{}",
      });
      return { json, bytes: Buffer.byteLength(json) };
    });
    const signal = new AbortController().signal;
    expect(await sink.send(rows, signal)).toEqual({ ok: true });
    expect(await sink.send(rows, signal)).toEqual({ ok: true });
    await sink.close!();
    expect(readRows(path).rows.map((row) => row.id)).toEqual([
      "01J000000000000000000001AA",
      "01J000000000000000000002AA",
    ]);
  });

  it("refuses a bad row as splittable, so the forwarder isolates it and delivers the rest", async () => {
    const database = join(tempDir(), "events.db");
    const logger = recordingLogger();
    const dropped: string[][] = [];
    // A serializer that makes one row with a column the table does not have.
    const events = eventsForward({
      database,
      logger,
      onDrop: (batch) => dropped.push(batch),
      serializer: (event) => {
        const { n } = event as { n: number };
        return JSON.stringify(
          n === 3
            ? { id: `id-${n}`, colour: "red" }
            : { id: `id-${n}`, event: "ok", properties: JSON.stringify({ n }) },
        );
      },
    });
    open.push(events);
    for (let n = 0; n < 8; n++) events.put({ n });
    await events.flush();
    expect(readRows(database).rows.map((row) => row.id)).toEqual([
      "id-0",
      "id-1",
      "id-2",
      "id-4",
      "id-5",
      "id-6",
      "id-7",
    ]);
    expect(dropped).toEqual([[JSON.stringify({ id: "id-3", colour: "red" })]]);
    expect(logger.messages.join("\n")).toContain('unknown column "colour"');
  });

  it("refuses a request row whose properties are not JSON at once (the dashboard's indexes read them), and delivers the rest", async () => {
    const database = join(tempDir(), "events.db");
    const logger = recordingLogger();
    const dropped: string[][] = [];
    const events = eventsForward({
      database,
      logger,
      onDrop: (batch) => dropped.push(batch),
      serializer: (event) => {
        const { n } = event as { n: number };
        const properties = n === 2 ? "status=500" : JSON.stringify({ n, status: 200 });
        return JSON.stringify({ id: `id-${n}`, event: "request", properties });
      },
    });
    open.push(events);
    for (let n = 0; n < 4; n++) events.put({ n });
    await events.flush();
    expect(readRows(database).rows.map((row) => row.id)).toEqual(["id-0", "id-1", "id-3"]);
    expect(dropped).toHaveLength(1);
    expect(logger.messages.join("\n")).toContain("row 0: properties of a request event must be JSON");
    // Refused, not retried as a failed write: one request per half, no retry.
    expect(events.stats()).toMatchObject({ retried: 0, dropped: 1, sent: 3 });
  });

  it("opens a file whose rows cannot be indexed for the dashboard (a request row's properties not JSON): warns, and takes events", async () => {
    const database = join(tempDir(), "events.db");
    const old = new Database(database);
    old.exec(
      `CREATE TABLE datasette_events (id TEXT PRIMARY KEY, instance TEXT, event TEXT, created TEXT, actor_id TEXT, database_name TEXT, table_name TEXT, properties TEXT);
       INSERT INTO datasette_events (id, event, properties) VALUES ('old-1', 'request', 'status=500');`,
    );
    old.close();
    const logger = recordingLogger();
    const events = eventsForward({ database, logger });
    open.push(events);
    events.put(SIGNUP);
    await events.flush();
    expect(readRows(database).rows.map((row) => row.event)).toEqual(["signup", "request"]);
    expect(logger.messages.join("\n")).toMatch(/the dashboard's indexes could not be made \(.*malformed JSON/);
  });

  it("fails at start-up, naming the option database, when the file is not a database", () => {
    const database = join(tempDir(), "events.db");
    writeFileSync(
      database,
      "this is not a SQLite file, just some text that is long enough to hold a header".repeat(20),
    );
    expect(() => eventsForward({ database, logger: false })).toThrow(OptionError);
    expect(() => eventsForward({ database, logger: false })).toThrow(
      /option database: cannot use ".*events\.db": the file is not a SQLite database or is corrupt/,
    );
  });

  it("keeps a NUL character in a text value whole, whichever driver writes it", async () => {
    // Node 22's node:sqlite cuts a bound string at its first NUL; the row must not lose the rest.
    const database = join(tempDir(), "events.db");
    const events = eventsForward({ database, instance: "nul\u0000instance", logger: false });
    open.push(events);
    events.put({ event: "a\u0000b", actorId: "\u0000", properties: { text: "x\u0000y" } });
    await events.flush();
    // Read as hex: Node 22's node:sqlite also cuts a text value at its first NUL when it reads one.
    const db = new Database(database, { readonly: true });
    const hex = db
      .prepare(
        "select hex(event) as event, hex(actor_id) as actor_id, hex(instance) as instance, properties from datasette_events",
      )
      .get() as Record<string, string>;
    db.close();
    const text = (column: string) => Buffer.from(hex[column]!, "hex").toString("utf8");
    expect([text("event"), text("actor_id"), text("instance"), JSON.parse(hex.properties!)]).toEqual([
      "a\u0000b",
      "\u0000",
      "nul\u0000instance",
      { text: "x\u0000y" },
    ]);
  });

  it("fails at start-up when the file's directory does not exist", () => {
    const database = join(tempDir(), "missing", "events.db");
    expect(() => eventsForward({ database, logger: false })).toThrow(
      /option database: cannot use .*: its directory does not exist/,
    );
  });

  it("cannot be combined with apiUrl", () => {
    expect(() => eventsForward({ apiUrl: "http://127.0.0.1:9/db/-/create", database: "x.db", logger: false })).toThrow(
      /option database: .*only used when no other store/,
    );
  });
});
