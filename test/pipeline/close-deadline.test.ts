import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { LIMITS } from "../../src/config/defaults.js";
import { FAST } from "../helpers/fast-options.js";
import { useRedisServer } from "../helpers/servers.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { TestStore } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

// close({ timeoutMs }) returns within its deadline plus LIMITS.closeMarginMs, whatever stalls:
// the store, the spool file's lock, the Redis server. What a durable queue had in flight stays
// in it, and the next publisher sends it again with the same ids.
const DEADLINE_MS = 300;
/** The stated margin (docs/delivery.md): close() gives up waiting at the deadline plus closeMarginMs. */
const STATED_MS = 1_000;

const tempDir = useTempDirs();
const redis = useRedisServer();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function hangingStore(): Promise<TestStore> {
  const store = new TestStore();
  let hang = true;
  store.behave = () => (hang ? { hangMs: 60_000 } : { accept: true });
  await store.start();
  cleanups.push(() => store.stop());
  Object.assign(store, { release: () => (hang = false) });
  return store;
}

function forwarder(store: TestStore, options: EventsForwardOptions): EventsForward {
  const events = eventsForward({ ...FAST, apiUrl: store.url(), requestEvents: false, logger: false, ...options });
  cleanups.push(() => events.close({ timeoutMs: 100 }));
  return events;
}

async function timedClose(events: EventsForward) {
  const started = performance.now();
  const result = await events.close({ timeoutMs: DEADLINE_MS });
  return { result, ms: performance.now() - started };
}

/** The ids of the request the store left hanging (the batch in flight at the deadline). */
const idsOf = (store: TestStore, index: number) => store.requests[index]!.rows.map((row) => row.id);

test("the stated margin is the one close() applies", () => {
  expect(DEADLINE_MS + LIMITS.closeMarginMs).toBeLessThan(DEADLINE_MS + STATED_MS);
});

test("memory: a store that never answers cannot hold close() past its deadline", async () => {
  const store = await hangingStore();
  const events = forwarder(store, {});
  for (let i = 0; i < 5; i++) events.put({ event: `e${i}` });
  await waitFor(() => store.requests.length === 1, { what: "the batch in flight" });
  const { result, ms } = await timedClose(events);
  expect(ms).toBeLessThan(DEADLINE_MS + STATED_MS);
  expect(result).toEqual({ delivered: 0, undelivered: 5 });
});

describe("a durable queue", () => {
  test("SQLite spool: the spool file locked by another process and a store that never answers: close() returns in time, and the next publisher sends the batch again with the same ids", async () => {
    const store = await hangingStore();
    const path = join(tempDir(), "spool.db");
    const events = forwarder(store, { spool: { path, pollMs: 10 } });
    for (let i = 0; i < 5; i++) events.put({ event: `e${i}` });
    await waitFor(() => store.requests.length === 1, { what: "the batch in flight" });
    // Another process (a CLI replay, say) holds the write lock: the lease cannot be given up.
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    cleanups.push(() => other.close());
    const { result, ms } = await timedClose(events);
    expect(ms).toBeLessThan(DEADLINE_MS + STATED_MS);
    expect(result).toMatchObject({ delivered: 0, spooled: 5 });

    other.exec("ROLLBACK");
    (store as unknown as { release(): void }).release();
    const next = forwarder(store, { spool: { path, pollMs: 10 } });
    await waitFor(() => next.stats().sent === 5, { what: "the next publisher delivering", timeoutMs: 20_000 });
    expect(idsOf(store, store.requests.length - 1)).toEqual(idsOf(store, 0));
    expect([...store.writes.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  test("Redis spool: a redis-server that stalls (SIGSTOP) while a batch is in flight: close() returns in time, and the next publisher sends the batch again with the same ids", async () => {
    const store = await hangingStore();
    const url = redis.server.url;
    const spool = { url, key: "close-deadline", pollMs: 10, leaseMs: 1_000 };
    const events = forwarder(store, { spool });
    for (let i = 0; i < 5; i++) events.put({ event: `e${i}` });
    await waitFor(() => store.requests.length === 1, { what: "the batch in flight" });
    const pid = redis.server.pid;
    process.kill(pid, "SIGSTOP");
    let stopped = true;
    cleanups.push(() => stopped && process.kill(pid, "SIGCONT"));
    const { result, ms } = await timedClose(events);
    expect(ms).toBeLessThan(DEADLINE_MS + STATED_MS);
    expect(result).toMatchObject({ delivered: 0 });

    process.kill(pid, "SIGCONT");
    stopped = false;
    (store as unknown as { release(): void }).release();
    const next = forwarder(store, { spool });
    await waitFor(() => next.stats().sent === 5, { what: "the next publisher delivering", timeoutMs: 20_000 });
    expect(idsOf(store, store.requests.length - 1)).toEqual(idsOf(store, 0));
    expect([...store.writes.values()]).toEqual([1, 1, 1, 1, 1]);
  });
});
