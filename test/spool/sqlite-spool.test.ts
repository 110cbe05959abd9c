import Database from "../helpers/sqlite-file.js";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  EventQueueFullError,
  eventsForward,
  OptionError,
  type EventsForward,
  type EventsForwardOptions,
} from "../../src/index.js";
import { silentLogger } from "../../src/core/log.js";
import { resolveSpoolOptions } from "../../src/config/spool-options.js";
import { SpoolQueue } from "../../src/spool/sqlite/spool.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { PROJECT_ROOT } from "../helpers/datasette-venv.js";
import { waitFor } from "../helpers/wait.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const open: EventsForward[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((events) => events.close({ timeoutMs: 500 })));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function forwarder(options: EventsForwardOptions): EventsForward {
  const events = eventsForward({ logger: false, instance: "spool-test", ...options });
  open.push(events);
  return events;
}

/** What is in a SQLite file right now, read through a connection of its own. */
function query<T>(path: string, sql: string): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}
const outboxCount = (spool: string) => query<{ n: number }>(spool, "select count(*) as n from outbox")[0]!.n;
const storedIds = (database: string) =>
  query<{ id: string }>(database, "select id from datasette_events order by id").map((row) => row.id);
const outboxIds = (spool: string) =>
  query<{ json: string }>(spool, "select json from outbox order by seq").map(
    (row) => (JSON.parse(row.json) as { id: string }).id,
  );

/** A TCP server that accepts connections and never answers: a request to it stays in flight. */
async function blackHole(): Promise<string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/data/-/create`;
}

describe("group commit", () => {
  it("keeps puts in memory for at most groupCommitMs, then commits them in one transaction", async () => {
    const spool = join(tempDir(), "spool.db");
    const events = forwarder({ spool: { path: spool, groupCommitMs: 100 }, publisher: false });
    const putAt = performance.now();
    for (let n = 0; n < 3; n++) events.put({ event: "e", properties: { n } });
    // put() returned; the window has not passed (no timer can have run yet): nothing on disk.
    expect(outboxCount(spool)).toBe(0);
    expect(events.stats()).toMatchObject({ buffered: 3, spooled: 0 });
    await waitFor(() => outboxCount(spool) === 3, { what: "the group to commit", intervalMs: 5 });
    // Durable (seen by another connection) about one window after the put: a window many times
    // longer fails this, with room for a loaded machine (a timer fires late, never early).
    const durableAfter = performance.now() - putAt;
    expect(durableAfter).toBeGreaterThanOrEqual(95);
    expect(durableAfter).toBeLessThan(1_000);
    expect(events.stats()).toMatchObject({ buffered: 0, spooled: 3, queued: 3, publisher: false });
  });

  it("with groupCommitMs 0, put() returns only once the event is on disk", () => {
    const spool = join(tempDir(), "spool.db");
    const events = forwarder({ spool: { path: spool, groupCommitMs: 0 }, publisher: false });
    events.put({ event: "e" });
    expect(outboxCount(spool)).toBe(1);
    events.put({ event: "e" });
    expect(outboxCount(spool)).toBe(2);
  });

  it("flush() commits the group at once; a process that only writes then has nothing more to do", async () => {
    const spool = join(tempDir(), "spool.db");
    const events = forwarder({ spool: { path: spool, groupCommitMs: 60_000 }, publisher: false });
    events.put({ event: "e" });
    expect(outboxCount(spool)).toBe(0);
    await events.flush();
    expect(outboxCount(spool)).toBe(1);
  });

  it("close() commits what is buffered and keeps it for the publisher", async () => {
    const spool = join(tempDir(), "spool.db");
    const events = eventsForward({ spool: { path: spool, groupCommitMs: 60_000 }, publisher: false, logger: false });
    events.put({ event: "e" });
    events.put({ event: "e" });
    expect(await events.close()).toEqual({ delivered: 0, undelivered: 2, spooled: 2 });
    expect(outboxCount(spool)).toBe(2);
  });
});

describe("the size bound", () => {
  it("throws EventQueueFullError naming spool.maxEvents when the spool (every process's rows) is full", async () => {
    const spool = join(tempDir(), "spool.db");
    const a = forwarder({ spool: { path: spool, maxEvents: 5, groupCommitMs: 0 }, publisher: false });
    const b = forwarder({ spool: { path: spool, maxEvents: 5, groupCommitMs: 0 }, publisher: false });
    for (let n = 0; n < 3; n++) a.put({ event: "a" });
    b.put({ event: "b" });
    b.put({ event: "b" });
    expect(() => b.put({ event: "b" })).toThrow(EventQueueFullError);
    expect(() => a.put({ event: "a" })).toThrow(/holds 5 events \(option spool\.maxEvents\)/);
    expect(a.stats().overflowed).toBe(1);
    expect(outboxCount(spool)).toBe(5);
  });

  it("makes room again once the publisher delivered", async () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    const writer = forwarder({ spool: { path: spool, maxEvents: 2, groupCommitMs: 0 }, publisher: false });
    writer.put({ event: "e" });
    writer.put({ event: "e" });
    expect(() => writer.put({ event: "e" })).toThrow(EventQueueFullError);
    const publisher = forwarder({ spool: { path: spool, pollMs: 10 }, database: join(dir, "events.db") });
    await waitFor(() => publisher.stats().sent === 2, { what: "the publisher to deliver" });
    expect(() => writer.put({ event: "e" })).not.toThrow();
  });
});

describe("rows leave the spool only when the store acknowledged them", () => {
  it("keeps every event while the store is unreachable, and a later publisher delivers the same rows", async () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    const unreachable = forwarder({
      spool: { path: spool, pollMs: 10 },
      apiUrl: "http://127.0.0.1:9/data/-/create",
      timePeriod: 0,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
    });
    for (let n = 0; n < 5; n++) unreachable.put({ event: "e", properties: { n } });
    await waitFor(() => unreachable.stats().failedRequests >= 3, { what: "failed attempts" });
    const ids = outboxIds(spool);
    expect(ids).toHaveLength(5);
    expect(await unreachable.close({ timeoutMs: 200 })).toEqual({ delivered: 0, undelivered: 5, spooled: 5 });
    open.splice(open.indexOf(unreachable), 1);

    const database = join(dir, "events.db");
    const next = forwarder({ spool: { path: spool, pollMs: 10 }, database });
    await waitFor(() => next.stats().sent === 5, { what: "the next publisher to deliver" });
    expect(storedIds(database)).toEqual(ids);
    expect(outboxCount(spool)).toBe(0);
  });

  it("a batch in flight when close()'s deadline passes stays in the spool, not dropped", async () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    const dropped: string[][] = [];
    const stuck = forwarder({
      spool: { path: spool, pollMs: 10 },
      apiUrl: await blackHole(),
      requestTimeoutMs: 30_000,
      onDrop: (batch) => dropped.push(batch),
    });
    for (let n = 0; n < 4; n++) stuck.put({ event: "e", properties: { n } });
    await waitFor(() => stuck.stats().requests === 1, { what: "the request to be in flight" });
    const ids = outboxIds(spool);
    expect(await stuck.close({ timeoutMs: 100 })).toEqual({ delivered: 0, undelivered: 4, spooled: 4 });
    expect(dropped).toEqual([]);
    expect(outboxIds(spool)).toEqual(ids);
  });

  it("with the memory queue, the same cut-short batch is dropped and reported (no spool to keep it)", async () => {
    const dropped: string[][] = [];
    const memory = forwarder({
      apiUrl: await blackHole(),
      requestTimeoutMs: 30_000,
      timePeriod: 0,
      onDrop: (batch) => dropped.push(batch),
    });
    for (let n = 0; n < 4; n++) memory.put({ event: "e", properties: { n } });
    await waitFor(() => memory.stats().requests === 1, { what: "the request to be in flight" });
    expect(await memory.close({ timeoutMs: 100 })).toEqual({ delivered: 0, undelivered: 4 });
    expect(dropped.flat()).toHaveLength(4);
  });
});

describe("the publisher lease", () => {
  it("lets exactly one of the processes sharing a spool publish, and passes on when it closes", async () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    const options = { spool: { path: spool, pollMs: 10, leaseMs: 60_000 }, database: join(dir, "events.db") };
    const a = forwarder(options);
    const b = forwarder(options);
    await waitFor(() => a.stats().publisher === true || b.stats().publisher === true, { what: "a publisher" });
    const [holder, other] = a.stats().publisher ? [a, b] : [b, a];
    expect(other.stats().publisher).toBe(false);
    // The lease lasts a minute: the other one takes over this quickly only because close() gives it up.
    await holder.close();
    await waitFor(() => other.stats().publisher === true, { what: "the other process to take over" });
    other.put({ event: "after-handover" });
    await waitFor(() => other.stats().sent === 1, { what: "the new publisher to deliver" });
  });

  it("hands the rate limit over with the lease: the next publisher waits out the window its predecessor started", async () => {
    const dir = tempDir();
    const spool = resolveSpoolOptions({ path: join(dir, "spool.db"), pollMs: 10 });
    const settings = () => ({ publisher: true, limiter: new RateLimiter(1, 60_000), logger: silentLogger });
    const first = new SpoolQueue(spool, settings());
    cleanups.push(() => first.close());
    await waitFor(() => first.publishing, { what: "the first publisher" });
    expect(await first.rateLimit.acquire(false)).toBe(0);
    await first.close();

    const second = new SpoolQueue(spool, settings());
    cleanups.push(() => second.close());
    await waitFor(() => second.publishing, { what: "the second publisher" });
    expect(await second.rateLimit.delay()).toBeGreaterThan(50_000);
  });
});

describe("a bad spool fails at start-up, naming the option", () => {
  it("a corrupt file", () => {
    const spool = join(tempDir(), "spool.db");
    writeFileSync(spool, Buffer.alloc(8192, 0x5a));
    expect(() => eventsForward({ spool, publisher: false })).toThrow(OptionError);
    expect(() => eventsForward({ spool, publisher: false })).toThrow(
      /option spool: cannot use ".*spool\.db": the file is not a SQLite database or is corrupt/,
    );
  });

  it("a path that cannot be a file (its parent is a file)", () => {
    const parent = join(tempDir(), "plain-file");
    writeFileSync(parent, "x");
    expect(() => eventsForward({ spool: join(parent, "spool.db"), publisher: false })).toThrow(
      /option spool: cannot use .*: its directory does not exist|cannot open the file/,
    );
  });

  it("a directory", () => {
    const dir = join(tempDir(), "a-directory");
    mkdirSync(dir);
    expect(() => eventsForward({ spool: dir, publisher: false })).toThrow(
      /option spool: cannot use .*a-directory": cannot open the file/,
    );
  });

  it("a SQLite database of something else, left untouched", () => {
    const other = join(tempDir(), "app.db");
    const db = new Database(other);
    db.exec("create table users (id integer primary key)");
    db.close();
    expect(() => eventsForward({ spool: other, publisher: false })).toThrow(
      /option spool: .*not an events-forward spool/,
    );
    expect(query<{ journal_mode: string }>(other, "pragma journal_mode")[0]!.journal_mode).toBe("delete");
  });

  it("bad spool options", () => {
    expect(() => eventsForward({ spool: { path: "" } })).toThrow(/option spool\.path: must be a non-empty file path/);
    expect(() => eventsForward({ spool: { path: "x.db", groupCommitMs: -1 } })).toThrow(
      /option spool\.groupCommitMs: must be between 0 and/,
    );
    expect(() => eventsForward({ spool: { path: "x.db", colour: 1 } as never })).toThrow(
      /option spool\.colour: is not a spool option/,
    );
    expect(() => eventsForward({ spool: { path: "x.db", synchronous: "off" } as never })).toThrow(
      /option spool\.synchronous/,
    );
    expect(() => eventsForward({ publisher: false })).toThrow(/option publisher: false needs the spool option/);
  });

  it("a pollMs as long as the lease: the holder would renew it only after it ran out", () => {
    for (const pollMs of [1_000, 1_500])
      expect(() => eventsForward({ spool: { path: "x.db", leaseMs: 1_000, pollMs }, publisher: false })).toThrow(
        /option spool\.pollMs: must be less than spool\.leaseMs \(1000\)/,
      );
    // The default pollMs (250) against a short lease names pollMs too, and says it was the default.
    expect(() => eventsForward({ spool: { path: "x.db", leaseMs: 200 }, publisher: false })).toThrow(
      /option spool\.pollMs: must be less than spool\.leaseMs \(200\), got 250 \(the default\)/,
    );
  });
});

describe("a normal exit", () => {
  it("commits the group even through process.exit(), long before the window ends", () => {
    const spool = join(tempDir(), "spool.db");
    const code = `
      import { eventsForward } from "./src/index.ts";
      const events = eventsForward({ spool: { path: ${JSON.stringify(spool)}, groupCommitMs: 60000 }, publisher: false, logger: false });
      for (let n = 0; n < 7; n++) events.put({ event: "before-exit", properties: { n } });
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(outboxCount(spool)).toBe(7);
  });
});

describe("SpoolQueue on its own", () => {
  const spoolQueue = (path: string, publisher: boolean) => {
    const queue = new SpoolQueue(resolveSpoolOptions({ path, groupCommitMs: 0, pollMs: 10 }), {
      publisher,
      limiter: new RateLimiter(1, 1),
      logger: silentLogger,
    });
    cleanups.push(() => queue.close());
    return queue;
  };

  it("gives nothing to take() in a process that is not the publisher: only the lease holder sends", async () => {
    const path = join(tempDir(), "spool.db");
    const queue = spoolQueue(path, false);
    queue.push({ json: '{"event":"e"}', bytes: 13 });
    expect(await queue.take(10, 1_000_000)).toEqual([]);
    expect(outboxCount(path)).toBe(1);
  });
});
