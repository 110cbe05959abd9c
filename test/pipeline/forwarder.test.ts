import { describe, expect, it } from "vitest";
import { datasetteRowSerializer, EventError, EventQueueFullError, ForwarderClosedError } from "../../src/index.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { rowsOf, unreachableUrl, type Behaviour } from "../helpers/test-store.js";
import { gate, waitFor } from "../helpers/wait.js";
import { recordingLogger } from "../helpers/recording-logger.js";

const putMany = (events: { put(e: object): void }, count: number, from = 0) => {
  for (let i = from; i < from + count; i++) events.put({ event: `e${i}` });
};
const names = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `e${from + i}`);

describe("batching", () => {
  it("sends batches of at most batchLimit events, in the order they were put", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 3 });
    putMany(events, 10);
    await events.flush();
    expect(store.requests.map((r) => rowsOf(r.body).length)).toEqual([3, 3, 3, 1]);
    expect(store.deliveredRows().map((row) => row.event)).toEqual(names(10));
  });

  it("keeps a batch within maxBatchBytes (one event always goes, however large)", async () => {
    const store = await startStore();
    const probe = datasetteRowSerializer("test")({ event: "e0" }, {});
    const events = startForwarder(store.url(), { maxBatchBytes: Buffer.byteLength(probe) * 2 });
    putMany(events, 5);
    events.put({ event: "large", properties: { text: "x".repeat(500) } });
    await events.flush();
    expect(store.requests.map((r) => rowsOf(r.body).map((row) => row.event))).toEqual([
      ["e0", "e1"],
      ["e2", "e3"],
      ["e4"],
      ["large"],
    ]);
  });

  it("uses batches of 100 by default for Datasette (its default max_insert_rows)", async () => {
    const store = await startStore();
    const events = startForwarder(store.url());
    putMany(events, 250);
    await events.flush();
    expect(store.requests.map((r) => rowsOf(r.body).length)).toEqual([100, 100, 50]);
  });
});

describe("rate limit", () => {
  it("starts at most maxRate requests in any timePeriod window, and sends as soon as the window allows", async () => {
    const store = await startStore();
    const periodMs = 500;
    const events = startForwarder(store.url(), { batchLimit: 1, maxRate: 2, timePeriod: periodMs / 1000 });
    putMany(events, 6);
    await waitFor(() => events.stats().sent === 6, { what: "six single-event batches" });
    const t = store.requests.map((r) => r.arrivedAt);
    // Arrival times (server side) can be closer than start times by the difference in transit
    // time, most for the first request (it opens the connection); the slack for that still
    // catches a missing or mis-scaled window, which would put the requests milliseconds apart.
    for (let i = 2; i < t.length; i++)
      expect(t[i]! - t[i - 2]!, `request ${i}`).toBeGreaterThanOrEqual(periodMs - (i === 2 ? 150 : 50));
    // Both requests of a window go in it (not spread out), and the third goes in the second window.
    expect(t[1]! - t[0]!).toBeLessThan(periodMs / 2);
    expect(t[2]! - t[0]!).toBeLessThan(2 * periodMs - 100);
  });

  it("sends its batches over one keep-alive connection", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 1 });
    putMany(events, 5);
    await events.flush();
    expect(store.requests).toHaveLength(5);
    expect(new Set(store.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it("flush() delivers what is queued now without waiting for the rate limit", { timeout: 5_000 }, async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 2, maxRate: 1, timePeriod: 60 });
    events.put({ event: "e0" });
    await waitFor(() => events.stats().sent === 1, { what: "the first batch" });
    putMany(events, 5, 1);
    // The window is 60 s: only ignoring it lets this finish before the test's 5 s timeout.
    await events.flush();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(names(6));
    expect(events.stats()).toMatchObject({ queued: 0, sent: 6, requests: 4 });
  });
});

describe("write API requests", () => {
  it("posts {table, rows, pk, ignore} to a /-/create URL with the bearer token", async () => {
    const store = await startStore();
    const events = startForwarder(store.url("/data/-/create"), { table: "my_events", apiToken: "tok-123" });
    putMany(events, 2);
    await events.flush();
    const [sent] = store.requests;
    expect(sent).toMatchObject({ method: "POST", path: "/data/-/create" });
    expect(sent!.headers.authorization).toBe("Bearer tok-123");
    expect(sent!.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(sent!.body);
    expect(Object.keys(body).sort()).toEqual(["ignore", "pk", "rows", "table"]);
    expect(body).toMatchObject({ table: "my_events", pk: "id", ignore: true });
    expect(body.rows.map((row: { event: string }) => row.event)).toEqual(["e0", "e1"]);
  });

  it("posts {rows, ignore} to a /-/insert URL; the table option does not apply and no token means no header", async () => {
    const store = await startStore();
    const events = startForwarder(store.url("/data/my_table/-/insert"));
    putMany(events, 1);
    await events.flush();
    const [sent] = store.requests;
    expect(sent!.path).toBe("/data/my_table/-/insert");
    expect(sent!.headers.authorization).toBeUndefined();
    const body = JSON.parse(sent!.body);
    expect(Object.keys(body).sort()).toEqual(["ignore", "rows"]);
    expect(body.ignore).toBe(true);
  });

  it("reads the token from the environment with { $env }", async () => {
    process.env.EVENTS_FORWARD_TEST_TOKEN = "from-env";
    onCleanup(async () => delete process.env.EVENTS_FORWARD_TEST_TOKEN);
    const store = await startStore();
    const events = startForwarder(store.url(), { apiToken: { $env: "EVENTS_FORWARD_TEST_TOKEN" } });
    putMany(events, 1);
    await events.flush();
    expect(store.requests[0]!.headers.authorization).toBe("Bearer from-env");
  });
});

describe("failures", () => {
  it("retries a failed batch with backoff, then delivers it once", async () => {
    // Request 0 warms the connection, so the timed requests 1-3 share the same transit cost.
    const store = await startStore((_request, index) =>
      index === 1 || index === 2 ? { status: 500 } : { accept: true },
    );
    const backoffBaseMs = 60;
    const events = startForwarder(store.url(), { backoffBaseMs, backoffMaxMs: 1_000, maxAttempts: 3 });
    events.put({ event: "warm-up" });
    await waitFor(() => events.stats().sent === 1, { what: "the warm-up batch" });
    putMany(events, 2);
    await waitFor(() => events.stats().sent === 3, { what: "the retried batch" });
    const retried = store.requests.slice(1);
    expect(retried).toHaveLength(3);
    expect(new Set(retried.map((r) => r.body)).size).toBe(1); // the same rows, the same ids
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["warm-up", "e0", "e1"]);
    // Backoff doubles from backoffBaseMs; its jitter takes off at most half of each step
    // (10 ms of slack for timing noise; no backoff at all would leave a millisecond or two).
    const t = retried.map((r) => r.arrivedAt);
    expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(backoffBaseMs / 2 - 10);
    expect(t[2]! - t[1]!).toBeGreaterThanOrEqual(backoffBaseMs - 10);
    expect(events.stats()).toMatchObject({
      queued: 0,
      sent: 3,
      retried: 2,
      dropped: 0,
      overflowed: 0,
      requests: 4,
      failedRequests: 2,
    });
  });

  it("drops an event after maxAttempts, counts it and hands it to onDrop with the reason", async () => {
    const store = await startStore(() => ({
      status: 500,
      body: '{"ok":false,"errors":["database is locked"],"status":500}',
    }));
    const dropped: { events: string[]; reason: string }[] = [];
    const events = startForwarder(store.url(), {
      maxAttempts: 2,
      onDrop: (events, reason) => dropped.push({ events, reason }),
    });
    // One event: a batch's halves would get the same 500, which makes it the store's (held).
    putMany(events, 1);
    await events.flush();
    expect(store.requests).toHaveLength(2);
    expect(events.stats()).toMatchObject({ queued: 0, sent: 0, dropped: 1, requests: 2, failedRequests: 2 });
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.events.map((json) => JSON.parse(json).event)).toEqual(names(1));
    expect(dropped[0]!.events).toEqual(
      JSON.parse(store.requests[0]!.body).rows.map((row: object) => JSON.stringify(row)),
    );
    expect(dropped[0]!.reason).toMatch(/HTTP 500.*database is locked.*maxAttempts/);
  });

  it("waits as long as Retry-After asks, up to maxRetryAfterMs", async () => {
    const store = await startStore((_request, index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "30" } } : { accept: true },
    );
    const events = startForwarder(store.url(), { backoffBaseMs: 1, maxRetryAfterMs: 150 });
    putMany(events, 1);
    await waitFor(() => events.stats().sent === 1, { what: "the retried batch" });
    const [first, second] = store.requests.map((r) => r.arrivedAt);
    // Without Retry-After the pause would be ~1 ms (backoffBaseMs); the first request also opens
    // the connection, so allow for its transit time.
    expect(second! - first!).toBeGreaterThanOrEqual(100);
    expect(second! - first!).toBeLessThan(10_000);
  });

  it("holds a batch while the store is unreachable, without using up its attempts", async () => {
    const events = startForwarder(await unreachableUrl(), { maxAttempts: 1, backoffBaseMs: 2, backoffMaxMs: 5 });
    putMany(events, 3);
    await waitFor(() => events.stats().failedRequests >= 4, { what: "several refused connections" });
    expect(events.stats()).toMatchObject({ queued: 3, dropped: 0, sent: 0 });
  });

  it("holds a batch answered 403, and warns once which permission the token lacks", async () => {
    let granted = false;
    const store = await startStore(() =>
      granted ? { accept: true } : { status: 403, body: '{"ok":false,"errors":["Permission denied"],"status":403}' },
    );
    const logger = recordingLogger();
    const events = startForwarder(store.url(), { maxAttempts: 1, backoffBaseMs: 2, backoffMaxMs: 5, logger });
    putMany(events, 2);
    await waitFor(() => events.stats().failedRequests >= 3, { what: "three refused requests" });
    expect(events.stats()).toMatchObject({ dropped: 0, queued: 2, holding: "HTTP 403" });
    granted = true;
    await events.flush();
    expect(events.stats()).toMatchObject({ dropped: 0, sent: 2 });
    expect(
      logger.messages.filter(
        (m) => m.startsWith("warn:") && /403.*Permission denied.*create-table.*holding 2 event/.test(m),
      ),
    ).toHaveLength(1);
  });

  it("splits a batch the store rejects with 400 until the bad event stands alone; the good ones arrive once", async () => {
    const store = await startStore((request) =>
      request.body.includes("POISON")
        ? { status: 400, body: '{"ok":false,"errors":["bad row"],"status":400}' }
        : { accept: true },
    );
    const dropped: string[] = [];
    const events = startForwarder(store.url(), { batchLimit: 8, onDrop: (events) => dropped.push(...events) });
    for (let i = 0; i < 8; i++) events.put({ event: `e${i}`, properties: i === 5 ? { marker: "POISON" } : {} });
    await events.flush();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["e0", "e1", "e2", "e3", "e6", "e7", "e4"]);
    expect(dropped.map((json) => JSON.parse(json).event)).toEqual(["e5"]);
    // 8 → 4 (good) + 4 → 2 + 2 (good) → 1 (good) + 1 (dropped): each rejected half is split again.
    // The second half [e6, e7] goes before [e4, e5] is resolved: both halves of [e4..e7] are
    // tried before halving on, to tell an answer about the batch from one about its events.
    expect(store.requests.map((r) => rowsOf(r.body).length)).toEqual([8, 4, 4, 2, 2, 1, 1]);
    expect(events.stats()).toMatchObject({ sent: 7, dropped: 1, queued: 0 });
  });
});

describe("close", () => {
  it("drains the queue (ignoring the rate limit), then refuses put() with ForwarderClosedError", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 2, maxRate: 1, timePeriod: 60 });
    putMany(events, 5);
    const result = await events.close({ timeoutMs: 5_000 });
    expect(result).toEqual({ delivered: 5, undelivered: 0 });
    expect(store.deliveredRows().map((row) => row.event)).toEqual(names(5));
    expect(() => events.put({ event: "late" })).toThrow(ForwarderClosedError);
    expect(() => events.put({ event: "late" })).toThrow(EventError);
    // Closing again is harmless and tells the same story.
    expect(await events.close()).toEqual(result);
    expect(store.requests).toHaveLength(3);
  });

  it("gives up at the deadline when the store is unreachable, reporting the events as undelivered", async () => {
    // A backoff far past the deadline: close() must end the pause, not wait it out.
    const events = startForwarder(await unreachableUrl(), { backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    putMany(events, 3);
    const started = performance.now();
    const result = await events.close({ timeoutMs: 1_000 });
    const took = performance.now() - started;
    expect(result).toEqual({ delivered: 0, undelivered: 3 });
    // At the deadline, not before, and well short of twice it (room for a loaded machine).
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(1_700);
  });

  it("gives up at the deadline when the store holds the request open", async () => {
    const held = gate<Behaviour>();
    const store = await startStore(() => held.promise);
    onCleanup(async () => held.open({ accept: true }));
    const reasons: string[] = [];
    const events = startForwarder(store.url(), {
      requestTimeoutMs: 60_000,
      onDrop: (_events, reason) => reasons.push(reason),
    });
    putMany(events, 2);
    await waitFor(() => store.inFlight === 1, { what: "the batch to be in flight" });
    const started = performance.now();
    expect(await events.close({ timeoutMs: 1_000 })).toEqual({ delivered: 0, undelivered: 2 });
    expect(reasons).toEqual(["the forwarder closed before they were delivered (close() deadline)"]);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(1_700);
  });
});

describe("stats and isolation", () => {
  it("counts queued, sent, retried, dropped, overflowed, requests and failed requests", async () => {
    const store = await startStore((_request, index) => (index === 0 ? { status: 503 } : { accept: true }));
    const rate = { maxRate: 1000, timePeriod: 0.01 }; // a finite capacity, checked below
    const events = startForwarder(store.url(), { ...rate, maxQueueSize: 3 });
    putMany(events, 3);
    expect(() => events.put({ event: "one too many" })).toThrow(EventQueueFullError);
    expect(events.stats()).toEqual({
      queued: 3,
      sent: 0,
      retried: 0,
      dropped: 0,
      overflowed: 1,
      requests: 0,
      failedRequests: 0,
      capacityPerSecond: (100 * rate.maxRate) / rate.timePeriod,
      failedTurns: 0,
    });
    await events.flush();
    expect(events.stats()).toEqual({
      queued: 0,
      sent: 3,
      retried: 1,
      dropped: 0,
      overflowed: 1,
      requests: 2,
      failedRequests: 1,
      capacityPerSecond: (100 * rate.maxRate) / rate.timePeriod,
      failedTurns: 0,
    });
  });

  it("shares no state between two forwarders in one process", async () => {
    const [storeA, storeB] = [await startStore(), await startStore()];
    const a = startForwarder(storeA.url(), { instance: "a", batchLimit: 2 });
    const b = startForwarder(storeB.url(), { instance: "b", batchLimit: 2 });
    const full = startForwarder(await unreachableUrl(), { maxQueueSize: 1 });
    full.put({ event: "filler" });
    expect(() => full.put({ event: "refused" })).toThrow(EventQueueFullError);
    for (let i = 0; i < 3; i++) {
      a.put({ event: `a${i}` });
      b.put({ event: `b${i}` });
    }
    await Promise.all([a.flush(), b.flush()]);
    const rowsA = storeA.deliveredRows();
    const rowsB = storeB.deliveredRows();
    expect(rowsA.map((row) => [row.event, row.raw.instance])).toEqual([
      ["a0", "a"],
      ["a1", "a"],
      ["a2", "a"],
    ]);
    expect(rowsB.map((row) => [row.event, row.raw.instance])).toEqual([
      ["b0", "b"],
      ["b1", "b"],
      ["b2", "b"],
    ]);
    const idsA = rowsA.map((row) => row.id);
    expect([...idsA].sort()).toEqual(idsA);
    expect(idsA.filter((id) => rowsB.some((row) => row.id === id))).toEqual([]);
    expect(a.stats()).toMatchObject({ sent: 3, requests: 2, overflowed: 0 });
    expect(b.stats()).toMatchObject({ sent: 3, requests: 2, overflowed: 0 });
    // Closing one leaves the other open.
    await a.close({ timeoutMs: 1_000 });
    b.put({ event: "b3" });
    await b.flush();
    expect(storeB.deliveredRows().map((row) => row.event)).toContain("b3");
  });
});
