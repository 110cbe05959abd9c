import { mkdirSync } from "node:fs";
import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OptionError, eventsForward } from "../../src/index.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import type { DeadLetterStore } from "../../src/spool/dead-letters.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisDeadLetters } from "../../src/spool/redis/dead-letters.js";
import { RedisServer } from "../helpers/redis-server.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import type { Behaviour, SeenRequest } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const quiet = { warn() {}, error() {} };

/** Rejects the whole request with a 400 when any row is "poison", naming each bad row, as Datasette does. */
function refusePoison(request: SeenRequest): Behaviour {
  const errors = request.rows.flatMap((row, i) =>
    row.event.startsWith("poison") ? [`Row ${i} has invalid columns: colour`] : [],
  );
  return errors.length === 0 ? { accept: true } : { status: 400, body: JSON.stringify({ ok: false, errors }) };
}

const outboxRows = (spool: string): number => {
  const db = new Database(spool, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

let redis: RedisServer;
beforeAll(async () => (redis = await RedisServer.start()));
afterAll(() => redis?.dispose());
let spools = 0;

/** A spool of each kind: the option that makes it, and its dead letters read through the store the CLI uses. */
const KINDS = [
  {
    kind: "SQLite",
    spool: (more: object = {}) => ({ path: join(tempDir(), `spool-${++spools}.db`), pollMs: 10, ...more }),
    store: (spool: { path?: string }): DeadLetterStore => new SqliteDeadLetters(spool.path!, 1_000, quiet),
    /** A SQLite spool keeps a dead letter as the batch is dropped. */
    acknowledged: async () => {},
  },
  {
    kind: "Redis",
    spool: (more: object = {}) => ({ url: redis.url, key: `dead-${++spools}`, pollMs: 10, leaseMs: 1_000, ...more }),
    store: (spool: { key?: string }): DeadLetterStore =>
      new RedisDeadLetters(new RedisConnection(redis.url, 2_000), spool.key!),
    /** A Redis spool moves a dropped batch into the dead letters with its acknowledgement, just after flush(). */
    acknowledged: (spool: { key?: string }) =>
      waitFor(async () => (await redis.cli("LLEN", `{${spool.key}}:events`)) === "0", {
        what: "the outbox acknowledged",
      }),
  },
];

/** Each test's spool, made by `spool()`, and its dead letters. */
function deadLetterStore(kind: (typeof KINDS)[number], spool: object): DeadLetterStore {
  const store = kind.store(spool);
  onCleanup(() => store.close());
  return store;
}

describe.each(KINDS)("dead letters in a $kind spool", (kind) => {
  const deadLettersIn = async (spool: object) => {
    await kind.acknowledged(spool);
    return deadLetterStore(kind, spool).list();
  };

  it("keeps each refused event in the spool: its text, the reason, the store's answer, the time, the attempts", async () => {
    const store = await startStore(refusePoison);
    const spool = kind.spool();
    const events = startForwarder(store.url(), { spool, batchLimit: 10 });
    const before = Date.now();
    for (const name of ["a", "poison-1", "b", "c", "poison-2"]) events.put({ event: name });
    await events.flush();
    expect(store.events().sort()).toEqual(["a", "b", "c"]);
    const kept = await deadLettersIn(spool);
    expect(kept.map((d) => JSON.parse(d.json).event)).toEqual(["poison-1", "poison-2"]);
    expect(kept[0]).toMatchObject({
      reason: "HTTP 400",
      status: 400,
      attempts: 1,
      answer: "Datasette answered HTTP 400: Row 0 has invalid columns: colour",
    });
    expect(kept[0]!.at).toBeGreaterThanOrEqual(before);
    expect(events.stats().dropped).toBe(2);
  });

  it("keeps no secret: the token a store echoes is cut out of the answer", async () => {
    const token = "dstok_secret-token-1234567890";
    const store = await startStore((request) => ({
      status: 409,
      body: JSON.stringify({ ok: false, errors: [`denied for ${request.headers.authorization}`] }),
    }));
    const spool = kind.spool();
    const events = startForwarder(store.url(), { spool, apiToken: token });
    events.put({ event: "a" });
    await events.flush();
    const [kept] = await deadLettersIn(spool);
    expect(kept!.answer).toContain("Datasette answered HTTP 409: denied for Bearer");
    expect(kept!.answer).not.toContain(token);
  });

  it("records the attempts of a batch that ran out of them, under reason maxAttempts", async () => {
    const store = await startStore(() => ({ status: 500 }));
    const spool = kind.spool();
    const events = startForwarder(store.url(), {
      spool,
      maxAttempts: 3,
      backoffBaseMs: 1,
      backoffMaxMs: 2,
    });
    events.put({ event: "a" });
    await events.flush();
    const [kept] = await deadLettersIn(spool);
    expect(kept).toMatchObject({ reason: "maxAttempts", status: 500, attempts: 3 });
  });

  it("records every attempt of a batch refused after retries (a 500, then a 409)", async () => {
    const store = await startStore((_, i) => (i === 0 ? { status: 500 } : { status: 409 }));
    const spool = kind.spool();
    const events = startForwarder(store.url(), {
      spool,
      maxAttempts: 5,
      backoffBaseMs: 1,
      backoffMaxMs: 2,
    });
    events.put({ event: "a" });
    await events.flush();
    const [kept] = await deadLettersIn(spool);
    expect(kept).toMatchObject({ reason: "HTTP 409", status: 409, attempts: 2 });
  });

  it("is bounded by spool.maxDeadLetters: the oldest go, logged once", async () => {
    const store = await startStore(() => ({ status: 409 }));
    const spool = kind.spool({ maxDeadLetters: 3 });
    const logger = recordingLogger();
    const events = startForwarder(store.url(), {
      spool,
      logger,
      batchLimit: 1,
    });
    for (let n = 0; n < 5; n++) events.put({ event: `e${n}` });
    await events.flush();
    expect((await deadLettersIn(spool)).map((d) => JSON.parse(d.json).event)).toEqual(["e2", "e3", "e4"]);
    expect(logger.messages.filter((m) => m.includes("spool.maxDeadLetters"))).toHaveLength(1);
  });

  it("replay moves them back into the outbox, with the same text, and a publisher delivers them", async () => {
    let refuse = true;
    const store = await startStore((request) => (refuse ? refusePoison(request) : { accept: true }));
    const spool = kind.spool();
    const events = startForwarder(store.url(), { spool, timePeriod: 0 });
    events.put({ event: "poison-x" });
    events.put({ event: "poison-y" });
    await events.flush();
    const kept = await deadLettersIn(spool);
    expect(kept).toHaveLength(2);
    refuse = false;
    const dead = deadLetterStore(kind, spool);
    expect(await dead.replay({ reason: "HTTP 400" })).toBe(2);
    expect(await dead.list()).toEqual([]);
    await waitFor(() => store.events().length === 2, { what: "the replayed events delivered" });
    expect([...store.table.values()].map((row) => JSON.stringify(row))).toEqual(kept.map((d) => d.json));
  });
});

/** The dead letters of a SQLite file, read through the store the CLI uses. */
async function deadLettersIn(path: string) {
  const store = new SqliteDeadLetters(path, 1_000, quiet);
  onCleanup(() => store.close());
  return store.list();
}

describe("dead letters", () => {
  it("without a spool: option deadLetter keeps them in a file of their own, and onDrop still hears of them", async () => {
    const store = await startStore(refusePoison);
    const file = join(tempDir(), "events-dead.db");
    const dropped: string[][] = [];
    const events = startForwarder(store.url(), { deadLetter: file, onDrop: (texts) => dropped.push(texts) });
    events.put({ event: "poison" });
    await events.flush();
    expect(dropped).toHaveLength(1);
    const kept = await deadLettersIn(file);
    expect(kept.map((d) => d.json)).toEqual(dropped[0]);
  });

  it("a dead-letter file that cannot be written keeps the batch queued, tried again until it can be kept (memory queue, option deadLetter)", async () => {
    const store = await startStore(refusePoison);
    const dir = join(tempDir(), "not-yet");
    const file = join(dir, "events-dead.db");
    const logger = recordingLogger();
    const dropped: string[][] = [];
    const events = startForwarder(store.url(), { deadLetter: file, logger, onDrop: (texts) => dropped.push(texts) });
    events.put({ event: "poison" });
    events.put({ event: "fine" });
    await waitFor(() => logger.messages.some((m) => m.includes("could not keep")), { what: "the failed keep" });
    // Not kept, so not given up on: still queued, not counted, onDrop not called.
    expect(events.stats()).toMatchObject({ dropped: 0, queued: 2 });
    expect(dropped).toEqual([]);
    mkdirSync(dir);
    await waitFor(() => events.stats().queued === 0, { what: "the batch to be kept on a later try" });
    expect((await deadLettersIn(file)).map((d) => JSON.parse(d.json).event)).toEqual(["poison"]);
    expect(events.stats()).toMatchObject({ dropped: 1, sent: 1 });
    expect(dropped).toHaveLength(1);
    expect(store.events()).toEqual(["fine"]);
  });

  it("with a spool: a dead-letter write refused (SQLITE_BUSY while another process holds the lock) leaves the batch in the spool, kept once the lock is free", async () => {
    const store = await startStore(refusePoison);
    const spool = join(tempDir(), "spool.db");
    const logger = recordingLogger();
    // A lease long enough that its renewal, blocked by the lock too, does not end it meanwhile.
    const events = startForwarder(store.url(), { spool: { path: spool, pollMs: 10, leaseMs: 60_000 }, logger });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    // The poison event is committed, then another connection (a CLI replay, say) takes the write lock.
    const other = new Database(spool);
    onCleanup(async () => other.close());
    store.behave = (request) => (holding ? refusePoison(request) : { status: 503 });
    let holding = false;
    events.put({ event: "poison" });
    await waitFor(() => outboxRows(spool) === 1, { what: "the event to be committed" });
    other.exec("BEGIN IMMEDIATE");
    holding = true;
    await waitFor(() => logger.messages.some((m) => m.includes("could not keep")), {
      what: "the refused dead-letter write",
      timeoutMs: 20_000,
    });
    other.exec("COMMIT");
    await waitFor(() => outboxRows(spool) === 0, { what: "the batch to be kept and settled", timeoutMs: 20_000 });
    expect((await deadLettersIn(spool)).map((d) => JSON.parse(d.json).event)).toEqual(["poison"]);
    expect(events.stats().dropped).toBe(1);
  }, 40_000);

  it("with a Redis spool: a move into the dead letters Redis refuses leaves the batch in the outbox, moved once it can be", async () => {
    const store = await startStore(refusePoison);
    const spool = KINDS[1]!.spool() as { url: string; key: string };
    // A key of another type where the dead letters go: the script that moves them fails on it.
    await redis.cli("SET", `{${spool.key}}:dead`, "in the way");
    const logger = recordingLogger();
    const events = startForwarder(store.url(), { spool, logger });
    events.put({ event: "poison" });
    await waitFor(() => logger.messages.some((m) => m.includes("WRONGTYPE")), { what: "the refused move" });
    // Not kept, so not given up on: still in the outbox, not counted as dropped.
    expect(events.stats().dropped).toBe(0);
    expect(await redis.cli("LLEN", `{${spool.key}}:events`)).toBe("1");
    await redis.cli("DEL", `{${spool.key}}:dead`);
    await waitFor(() => events.stats().dropped === 1, { what: "the batch to be kept on a later try" });
    expect(await redis.cli("LLEN", `{${spool.key}}:events`)).toBe("0");
    const kept = await deadLetterStore(KINDS[1]!, spool).list();
    expect(kept.map((d) => JSON.parse(d.json).event)).toEqual(["poison"]);
  });

  it("refuses option deadLetter beside a spool, and a bad spool.maxDeadLetters", () => {
    const dir = tempDir();
    expect(() => eventsForward({ logger: false, spool: join(dir, "s.db"), deadLetter: join(dir, "d.db") })).toThrow(
      OptionError,
    );
    expect(() => eventsForward({ logger: false, spool: join(dir, "s.db"), deadLetter: join(dir, "d.db") })).toThrow(
      /option deadLetter: is for forwarders without a spool/,
    );
    expect(() => eventsForward({ logger: false, spool: { path: join(dir, "s.db"), maxDeadLetters: 0 } })).toThrow(
      /option spool.maxDeadLetters: must be between 1/,
    );
  });

  it("opens a spool file made before dead letters existed, and keeps them in it", async () => {
    const spool = join(tempDir(), "old-spool.db");
    const old = new Database(spool);
    old.exec(`
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL, bytes INTEGER NOT NULL);
      CREATE TABLE lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT, expires INTEGER NOT NULL, sends TEXT NOT NULL);
      INSERT INTO lease (id, holder, expires, sends) VALUES (1, NULL, 0, '[]');
    `);
    // A whole row (rows of another shape never reach the store: see test/security/spool-rows.test.ts).
    const row = JSON.stringify({
      id: "01J0000000000000000000000P",
      instance: "old",
      event: "poison-old",
      created: "2026-12-01T12:00:00+00:00",
      actor_id: null,
      database_name: null,
      table_name: null,
      properties: "{}",
    });
    old.prepare("INSERT INTO outbox (json, bytes) VALUES (?, ?)").run(row, Buffer.byteLength(row));
    old.exec("PRAGMA application_id = 1162236752");
    old.close();
    const store = await startStore(refusePoison);
    const events = startForwarder(store.url(), { spool: { path: spool, pollMs: 10 } });
    await waitFor(() => events.stats().dropped === 1, { what: "the old row dropped" });
    expect((await deadLettersIn(spool)).map((d) => d.reason)).toEqual(["HTTP 400"]);
  });
});
