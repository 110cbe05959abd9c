// The dead-letter store the CLI reads, on its own, the same for each spool kind: what it lists
// (filters, limit, pages past a thousand), how it counts by reason, and what replay and purge
// move or delete. The forwarder's side (what it keeps, when) is in dead-letters.test.ts.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { openSqlite } from "../../src/core/sqlite-open.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import type { DeadLetterStore, DropInfo } from "../../src/spool/dead-letters.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisDeadLetters } from "../../src/spool/redis/dead-letters.js";
import { RedisSpoolQueue } from "../../src/spool/redis/spool.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { checkIsSpool, createSpool } from "../../src/spool/sqlite/schema.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { numbered, numbersOf } from "../helpers/numbered-events.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const quiet = { warn() {}, error() {} };
let redis: RedisServer;
beforeAll(async () => (redis = await RedisServer.start()));
afterAll(() => redis?.dispose());
let made = 0;

/** A spool of one kind, empty: keep() drops events into its dead letters as the forwarder would; outbox() counts what waits. */
interface Spool {
  store: DeadLetterStore;
  keep(events: QueuedEvent[], info: DropInfo): Promise<void>;
  outbox(): Promise<number>;
}

const KINDS: Array<{ kind: string; open(): Promise<Spool> }> = [
  {
    kind: "SQLite",
    open: async () => {
      const path = join(tempDir(), `spool-${++made}.db`);
      const store = new SqliteDeadLetters(path, 100_000, quiet);
      onCleanup(() => store.close());
      return {
        store,
        keep: async (events, info) => {
          expect(await store.keep(events, info)).toBe(true);
        },
        outbox: async () => {
          const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
          try {
            return (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
          } finally {
            db.close();
          }
        },
      };
    },
  },
  {
    kind: "Redis",
    open: async () => {
      const key = `store-${++made}`;
      const queue = new RedisSpoolQueue(resolveRedisSpoolOptions({ url: redis.url, key, leaseMs: 5_000, pollMs: 10 }), {
        publisher: true,
        logger: quiet,
      });
      onCleanup(() => queue.close());
      // The CLI's store: a connection of its own, which close() closes.
      const store = new RedisDeadLetters(new RedisConnection(redis.url, 5_000), key);
      onCleanup(() => store.close());
      const forwarders = new RedisDeadLetters(queue.connection, key, queue);
      await waitFor(() => queue.publishing, { what: "the lease" });
      return {
        store,
        keep: async (events, info) => {
          for (const event of events) queue.push(event);
          await queue.commit();
          const batch = await queue.take(events.length, Number.POSITIVE_INFINITY);
          expect(batch).toHaveLength(events.length);
          expect(await forwarders.keep(batch, info)).toBe(true);
          await queue.settle(batch);
        },
        outbox: async () => Number(await redis.cli("LLEN", `{${key}}:events`)),
      };
    },
  },
];

const REFUSED: DropInfo = { answer: "Datasette answered HTTP 400: invalid columns: colour", status: 400, attempts: 2 };
const GAVE_UP: DropInfo = { answer: "gave up after 5 attempts (option maxAttempts): HTTP 503", status: 503 };
const CLOSED: DropInfo = { answer: "not sent before the close() deadline" };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => numbered(from + i));

describe.each(KINDS)("the dead letters of a $kind spool", ({ open }) => {
  it("lists each with its text, reason, status, answer, time and attempts, in order; filters by reason or answer text, by time, and limits", async () => {
    const spool = await open();
    const before = Date.now();
    await spool.keep(range(0, 2), REFUSED);
    await spool.keep(range(2, 3), GAVE_UP);
    await spool.keep(range(3, 4), CLOSED);
    const all = await spool.store.list();
    expect(numbersOf(all)).toEqual([0, 1, 2, 3]);
    expect(all[0]).toMatchObject({
      json: numbered(0).json,
      reason: "HTTP 400",
      status: 400,
      answer: REFUSED.answer,
      attempts: 2,
    });
    expect(all[2]).toMatchObject({ reason: "maxAttempts", status: 503, answer: GAVE_UP.answer, attempts: 1 });
    expect(all[3]).toMatchObject({ reason: "closed", status: null, attempts: 1 });
    expect(all[0]!.at).toBeGreaterThanOrEqual(before - 1_000);
    expect(all[0]!.at).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(all[1]!.seq).toBeGreaterThan(all[0]!.seq);

    expect(numbersOf(await spool.store.list({ reason: "HTTP 400" }))).toEqual([0, 1]); // the reason
    expect(numbersOf(await spool.store.list({ reason: "HTTP 503" }))).toEqual([2]); // the answer
    expect(numbersOf(await spool.store.list({ reason: "nothing like it" }))).toEqual([]);
    expect(numbersOf(await spool.store.list({}, 3))).toEqual([0, 1, 2]);
    expect(numbersOf(await spool.store.list({ reason: "a" }, 1))).toEqual([0]);
    const last = all[3]!.at;
    expect(numbersOf(await spool.store.list({ since: last }))).toContain(3);
    expect(await spool.store.list({ since: last + 1 })).toEqual([]);
    expect(numbersOf(await spool.store.list({ reason: "closed", since: 0 }))).toEqual([3]);
  });

  it("counts by reason, most first, then by name, with the oldest and newest time and an answer", async () => {
    const spool = await open();
    await spool.keep(range(0, 1), REFUSED);
    await spool.keep(range(1, 3), GAVE_UP);
    await spool.keep(range(3, 4), CLOSED);
    await spool.keep(range(4, 5), GAVE_UP);
    await spool.keep(range(5, 6), REFUSED);
    const counts = await spool.store.byReason();
    // Most first (by name they would come HTTP 400, closed, maxAttempts).
    expect(counts.map(({ reason, count, example }) => ({ reason, count, example }))).toEqual([
      { reason: "maxAttempts", count: 3, example: GAVE_UP.answer },
      { reason: "HTTP 400", count: 2, example: REFUSED.answer },
      { reason: "closed", count: 1, example: CLOSED.answer },
    ]);
    const letters = await spool.store.list();
    expect(counts[0]).toMatchObject({ oldest: letters[1]!.at, newest: letters[4]!.at });
    expect(typeof counts[0]!.oldest).toBe("number");
  });

  it("replay moves the matching ones back into the outbox, in order; purge deletes the matching ones; each says how many", async () => {
    const spool = await open();
    await spool.keep(range(0, 3), REFUSED);
    await spool.keep(range(3, 5), CLOSED);
    expect(await spool.store.replay({ reason: "HTTP 400" })).toBe(3);
    expect(await spool.outbox()).toBe(3);
    expect(numbersOf(await spool.store.list())).toEqual([3, 4]);
    expect(await spool.store.purge({ reason: "nothing like it" })).toBe(0);
    expect(await spool.store.purge()).toBe(2);
    expect(await spool.store.list()).toEqual([]);
    expect(await spool.outbox()).toBe(3);
  });

  it("lists, replays and purges past a thousand (the Redis store's page)", async () => {
    const spool = await open();
    await spool.keep(range(0, 2_100), REFUSED);
    expect(numbersOf(await spool.store.list())).toEqual(Array.from({ length: 2_100 }, (_, i) => i));
    expect(await spool.store.list({}, 1_500)).toHaveLength(1_500);
    expect(await spool.store.replay({ reason: "HTTP 400" })).toBe(2_100);
    expect(await spool.outbox()).toBe(2_100);
    await spool.keep(range(2_100, 3_200), CLOSED);
    expect(await spool.store.purge()).toBe(1_100);
    expect(await spool.store.byReason()).toEqual([]);
  }, 60_000);
});

describe("the Redis dead-letter store", () => {
  it("closes its own connection (the CLI's), not the queue's; without a queue, keep() has nothing to move", async () => {
    const connection = new RedisConnection(redis.url, 2_000);
    const cli = new RedisDeadLetters(connection, "own");
    expect(await cli.keep([numbered(1)], REFUSED)).toBe(true);
    await cli.close();
    await expect(connection.run("listDead", ["{own}:dead", "{own}:dead-ids"], [0, 1])).rejects.toThrow();

    const shared = new RedisConnection(redis.url, 2_000);
    onCleanup(() => shared.close());
    const forwarders = new RedisDeadLetters(shared, "own", {} as RedisSpoolQueue);
    await forwarders.close();
    expect(await forwarders.list()).toEqual([]);
  });
});

describe("the SQLite dead-letter store", () => {
  it("is bounded: past max the oldest go, counted, warned once; at max nothing goes", async () => {
    const logger = recordingLogger();
    const path = join(tempDir(), "bounded.db");
    const store = new SqliteDeadLetters(path, 3, logger);
    onCleanup(() => store.close());
    expect(await store.keep(range(0, 3), REFUSED)).toBe(true);
    expect(store.evicted).toBe(0);
    expect(logger.messages).toEqual([]);
    expect(await store.keep(range(3, 4), REFUSED)).toBe(true);
    expect(store.evicted).toBe(1);
    expect(await store.keep(range(4, 6), REFUSED)).toBe(true);
    expect(store.evicted).toBe(3);
    expect(numbersOf(await store.list())).toEqual([3, 4, 5]);
    expect(logger.messages).toEqual([
      `warn: ${path} holds more than 3 dead letters (spool.maxDeadLetters): the oldest are deleted to make room (reported once)`,
    ]);
  });

  it("a file it cannot write: false, one error an episode naming the option, and one line once it can write again", async () => {
    const logger = recordingLogger();
    const dir = join(tempDir(), "missing");
    const store = new SqliteDeadLetters(join(dir, "dead.db"), 100, logger, "deadLetter");
    onCleanup(() => store.close());
    expect(await store.keep([], REFUSED)).toBe(true); // nothing to keep: the file is not even opened
    expect(await store.keep(range(0, 2), REFUSED)).toBe(false);
    expect(logger.messages).toHaveLength(1); // at the first failure of the episode
    expect(await store.keep(range(0, 2), REFUSED)).toBe(false);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(
      /^error: could not keep 2 dropped event\(s\) as dead letters in .*dead\.db: .*; they stay queued and are tried again \(reported once until it works again\)$/,
    );
    await expect(store.list()).rejects.toThrow(/deadLetter/);
    mkdirSync(dir);
    expect(await store.keep(range(0, 2), REFUSED)).toBe(true);
    expect(await store.keep(range(2, 3), REFUSED)).toBe(true);
    expect(logger.messages.slice(1)).toEqual([`warn: dead letters in ${join(dir, "dead.db")} can be written again`]);
  });

  it("close() before any use does nothing; after it, the store opens the file again on use", async () => {
    const path = join(tempDir(), "closed.db");
    const store = new SqliteDeadLetters(path, 100, quiet);
    await store.close();
    expect(await store.keep(range(0, 1), REFUSED)).toBe(true);
    await store.close();
    expect(numbersOf(await store.list())).toEqual([0]);
    await store.close();
    // A file replaced meanwhile is the one read (a handle kept open would still read the old one).
    rmSync(path);
    expect(await store.list()).toEqual([]);
    await store.close();
  });

  it("names option spool by default, and refuses a symbolic link unless allowed", async () => {
    const broken = new SqliteDeadLetters(join(tempDir(), "missing", "dead.db"), 100, quiet);
    await expect(broken.list()).rejects.toThrow(/^events-forward option spool: /);
    const target = join(tempDir(), "target.db");
    const link = join(tempDir(), "link.db");
    symlinkSync(target, link);
    const linked = new SqliteDeadLetters(link, 100, quiet);
    onCleanup(() => linked.close());
    expect(await linked.keep(range(0, 1), REFUSED)).toBe(false);
    const allowed = new SqliteDeadLetters(link, 100, quiet, "spool", true);
    onCleanup(() => allowed.close());
    expect(await allowed.keep(range(0, 1), REFUSED)).toBe(true);
  });
});

describe("the Redis dead-letter store reads what another writer left", () => {
  it("a record without its optional fields gets their defaults; one that is not JSON is skipped", async () => {
    const key = `odd-${++made}`;
    const store = new RedisDeadLetters(new RedisConnection(redis.url, 2_000), key);
    onCleanup(() => store.close());
    await redis.cli("HSET", `{${key}}:dead`, "1", JSON.stringify({ json: "{}", reason: "other", at: 5 }));
    await redis.cli("HSET", `{${key}}:dead`, "2", "not json");
    await redis.cli("ZADD", `{${key}}:dead:ids`, "1", "1", "2", "2");
    expect(await store.list()).toEqual([
      { seq: 1, json: "{}", reason: "other", status: null, answer: "", at: 5, attempts: 1 },
    ]);
    expect(await store.list({ reason: "other" })).toHaveLength(1);
  });
});
