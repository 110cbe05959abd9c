// Two processes that both believe they hold the publisher lease (a holder that stalled past its
// lease, a wall clock that stepped backwards): the fleet's rate limit must still hold, and the old
// holder must stop sending once it knows (issue 27 item 7).
import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { Agent } from "undici";
import { undiciTransport } from "../../src/stores/transport.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FAST_RETRY } from "../helpers/fast-options.js";
import { BatchSender } from "../../src/pipeline/batch-sender.js";
import { Counters } from "../../src/pipeline/observer.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter, type RateLimit } from "../../src/pipeline/rate-limit.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { RedisLease } from "../../src/spool/redis/lease.js";
import { RedisRateWindow } from "../../src/spool/redis/rate-window.js";
import { spoolKeys } from "../../src/spool/redis/scripts.js";
import { PublisherLease } from "../../src/spool/sqlite/lease.js";
import { checkIsSpool, createSpool } from "../../src/spool/sqlite/schema.js";
import { openSqlite } from "../../src/core/sqlite-open.js";
import { datasetteSink } from "../../src/stores/datasette/sink.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { RedisServer } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();
const servers: RedisServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) await server.dispose();
});

async function redis(): Promise<RedisServer> {
  const server = await RedisServer.start();
  servers.push(server);
  return server;
}

function connection(url: string): RedisConnection {
  const made = new RedisConnection(url, 2_000);
  onCleanup(() => made.close());
  return made;
}

const batch: QueuedEvent[] = [{ json: '{"id":"01J00000000000000000000000","event":"e"}', bytes: 45 }];

/** A sender as the forwarder builds it, to a real (test) store, with the rate limit given. */
async function senderWith(rateLimit: RateLimit, stopping: AbortSignal) {
  const store = await startStore();
  const transport = undiciTransport(Agent);
  onCleanup(() => transport.close());
  const sink = datasetteSink({
    apiUrl: new URL(store.url()),
    table: "events",
    requestTimeoutMs: 2_000,
    transport,
  });
  const settings = FAST_RETRY;
  return {
    store,
    sender: new BatchSender({ settings, sink, rateLimit, stopping, observer: new Counters(), waiting: () => 1 }),
  };
}

/** Two holders send one batch each at the same moment, with room for one request a minute. */
async function sendTogether(a: RateLimit, b: RateLimit): Promise<number> {
  const stopping = new AbortController();
  const one = await senderWith(a, stopping.signal);
  const two = await senderWith(b, stopping.signal);
  const sent = Promise.all([one.sender.send(batch), two.sender.send(batch)]);
  await waitFor(() => one.store.requests.length + two.store.requests.length > 0, { what: "a first request" });
  // The second, if the window let it through, starts within a few round trips of the first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  stopping.abort();
  await sent;
  return one.store.requests.length + two.store.requests.length;
}

describe("two lease holders share one rate window", () => {
  it("Redis: checking the window and recording a start are one step, so only one of them starts a request", async () => {
    const server = await redis();
    const keys = spoolKeys("two-holders");
    const window = (id: string) =>
      new RedisRateWindow(connection(server.url), keys, new RateLimiter(1, 60_000), 1, 60_000, id);
    expect(await sendTogether(window("a"), window("b"))).toBe(1);
  });

  it("SQLite: the window in the lease row is read and written in one transaction, so only one of them starts a request", async () => {
    const path = join(tempDir(), "spool.db");
    const open = () => {
      const db = openSqlite("spool", path, { check: checkIsSpool, init: createSpool });
      onCleanup(async () => db.close());
      return new PublisherLease(db, 60_000, new RateLimiter(1, 60_000));
    };
    expect(await sendTogether(open().rateLimit, open().rateLimit)).toBe(1);
  });
});

describe("a holder that lost its lease", () => {
  it("stops retrying its batch once it knows another process took the lease (SQLite)", async () => {
    // The store cannot be reached: the batch is held and retried for as long as it takes.
    const unreachable = "http://127.0.0.1:9/data/-/create";
    const spool = join(tempDir(), "spool.db");
    const events = startForwarder(unreachable, {
      spool: { path: spool, pollMs: 10, leaseMs: 1_000 },
      backoffBaseMs: 10,
      backoffMaxMs: 20,
    });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    events.put({ event: "held" });
    await waitFor(() => events.stats().requests >= 2, { what: "the retries to begin" });
    // Another process takes the lease (as it would after this one stalled past leaseMs).
    const other = new Database(spool);
    onCleanup(async () => other.close());
    other.prepare("UPDATE lease SET holder = 'other:1:x', expires = ? WHERE id = 1").run(Date.now() + 60_000);
    await waitFor(() => events.stats().publisher === false, { what: "the holder to see it lost the lease" });
    const requests = events.stats().requests;
    // Retried every 10-20 ms until now: over 300 ms, at most the attempt already under way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.stats().requests - requests).toBeLessThanOrEqual(1);
  });

  it("Redis: a wall clock stepped back an hour does not stretch the lease (it is measured on the monotonic clock)", async () => {
    const server = await redis();
    const keys = spoolKeys("clock");
    const a = new RedisLease(connection(server.url), keys, 300);
    const b = new RedisLease(connection(server.url), keys, 300);
    expect(await a.refresh()).toBe(true);
    // The wall clock steps back an hour; `a` then stalls (no renewal) while Redis ends its lease.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => realNow() - 3_600_000);
    await waitFor(async () => await b.refresh(), { what: "the other process to take the expired lease" });
    expect(a.held()).toBe(false);
  });
});
