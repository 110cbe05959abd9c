import { describe, expect, test } from "vitest";
import { forwarderSettings } from "../helpers/fast-options.js";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { EventQueueFullError } from "../../src/index.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { SendResult } from "../../src/pipeline/sink.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { logged, names, useLoopbackStore } from "../helpers/forward-to.js";
import { assertRate, watchForwarderStarts } from "../helpers/request-starts.js";
import { waitFor } from "../helpers/wait.js";

const t = useLoopbackStore();

function putAll(list: string[]): void {
  for (const event of list) t.h.events.put({ event });
}

/** Gaps between consecutive requests the store saw, in ms. */
function gaps(): number[] {
  return t.store.requests.slice(1).map((r, i) => r.at - t.store.requests[i]!.at);
}

describe("what is retried", () => {
  test("500s are retried until the store takes the batch; each event lands once", async () => {
    t.store.behave = (_, i) => (i < 2 ? { status: 500 } : { accept: true });
    const h = t.forward();
    putAll(["a", "b", "c"]);
    await h.events.flush();
    expect(t.store.events()).toEqual(["a", "b", "c"]);
    expect(h.events.stats()).toMatchObject({ sent: 3, requests: 3, retried: 2, failedRequests: 2, dropped: 0 });
    expect(h.drops).toEqual([]);
  });

  test.each([501, 505])(
    "%i is not retried: a lone event is dropped at once with the store's answer",
    async (status) => {
      t.store.behave = () => ({ status });
      const h = t.forward({ maxAttempts: 5 });
      putAll(["a"]);
      await h.events.flush();
      expect(t.store.requests).toHaveLength(1);
      expect(h.droppedNames()).toEqual(["a"]);
      expect(h.drops[0]!.reason).toContain(`HTTP ${status}: test store says ${status}`);
      expect(h.events.stats()).toMatchObject({ sent: 0, dropped: 1, retried: 0 });
    },
  );

  test.each([401, 403, 404])(
    "%i holds the batch (the sender's trouble, not the events'): retried past maxAttempts until the store takes it, one warning, stats().holding",
    async (status) => {
      let open = false;
      t.store.behave = () => (open ? { accept: true } : { status });
      const h = t.forward({ maxAttempts: 1 });
      putAll(["a", "b"]);
      const flushed = h.events.flush();
      await waitFor(() => h.events.stats().failedRequests >= 5, { what: "five refused requests" });
      expect(h.events.stats()).toMatchObject({ holding: `HTTP ${status}`, dropped: 0, queued: 2 });
      open = true;
      await flushed;
      expect(t.store.events()).toEqual(["a", "b"]);
      expect(h.events.stats()).toMatchObject({ sent: 2, dropped: 0 });
      expect(h.events.stats().holding).toBeUndefined();
      expect(h.drops).toEqual([]);
      expect(logged(h, new RegExp(`HTTP ${status}.*holding 2 event\\(s\\)`), "warn")).toHaveLength(1);
      expect(logged(h, /accepts events again/, "warn")).toHaveLength(1);
    },
  );

  test("while a 401 holds the batch, the queue bound still applies: a full queue refuses put(), counted, nothing dropped", async () => {
    let open = false;
    t.store.behave = () => (open ? { accept: true } : { status: 401 });
    const h = t.forward({ maxQueueSize: 3, batchLimit: 2 });
    putAll(["a", "b", "c"]);
    await waitFor(() => h.events.stats().holding === "HTTP 401", { what: "the batch held" });
    expect(() => h.events.put({ event: "d" })).toThrow(EventQueueFullError);
    expect(h.events.stats()).toMatchObject({ overflowed: 1, dropped: 0, queued: 3 });
    open = true;
    await h.events.flush();
    expect(t.store.events()).toEqual(["a", "b", "c"]);
  });

  test("without onDrop, a drop is logged once and nothing else is", async () => {
    t.store.behave = () => ({ status: 501 });
    const h = t.forward({ onDrop: undefined });
    putAll(["a"]);
    await h.events.flush();
    expect(h.events.stats()).toMatchObject({ dropped: 1 });
    expect(logged(h, /./, "error")).toEqual([expect.stringMatching(/^dropped 1 event\(s\) for .*HTTP 501/)]);
  });

  test("a lone event answered 408 or 500 every time uses attempts: dropped after maxAttempts, never silently", async () => {
    t.store.behave = (_, i) => ({ status: i % 2 === 0 ? 408 : 500 });
    const h = t.forward({ maxAttempts: 3 });
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.requests).toHaveLength(3);
    expect(h.droppedNames()).toEqual(["a"]);
    expect(h.drops[0]!.reason).toMatch(/HTTP 408.*gave up after 3 attempts, option maxAttempts/);
    expect(h.events.stats()).toMatchObject({ requests: 3, retried: 2, failedRequests: 3, dropped: 1, sent: 0 });
  });

  test("a 500 that the halves of a batch get too is the store's: the batch is held, nothing dropped", async () => {
    let open = false;
    t.store.behave = () => (open ? { accept: true } : { status: 500 });
    const h = t.forward({ maxAttempts: 2, batchLimit: 4 });
    putAll(["a", "b", "c", "d"]);
    const flushed = h.events.flush();
    // 2 attempts of the batch, 2 of each half, then the batch again, held.
    await waitFor(() => h.events.stats().failedRequests >= 8, { what: "the halves and the held batch failing" });
    expect(h.events.stats()).toMatchObject({ holding: "HTTP 500", dropped: 0 });
    expect(t.store.requests.map((r) => r.rows.length).slice(0, 8)).toEqual([4, 4, 2, 2, 2, 2, 4, 4]);
    open = true;
    await flushed;
    expect(t.store.events()).toEqual(["a", "b", "c", "d"]);
    expect(h.drops).toEqual([]);
  });

  test.each([429, 502, 503, 504])(
    "%i does not use attempts: the batch is held until the store takes it",
    async (status) => {
      t.store.behave = (_, i) => (i < 5 ? { status } : { accept: true });
      const h = t.forward({ maxAttempts: 1 });
      putAll(["a", "b"]);
      await h.events.flush();
      expect(t.store.events()).toEqual(["a", "b"]);
      expect(h.events.stats()).toMatchObject({ requests: 6, retried: 5, dropped: 0, sent: 2 });
    },
  );

  test("a connection refused does not use attempts either", async () => {
    const port = t.store.port;
    await t.store.stop();
    const h = t.forward({ maxAttempts: 1, backoffMaxMs: 10 });
    putAll(["a"]);
    const flushed = h.events.flush();
    await waitFor(() => h.events.stats().failedRequests >= 3, { what: "three refused connections" });
    await t.store.start(port);
    await flushed;
    expect(t.store.events()).toEqual(["a"]);
    expect(h.events.stats().dropped).toBe(0);
    expect(logged(h, /ECONNREFUSED.*retrying with backoff/, "warn")).toHaveLength(1);
    expect(logged(h, /accepts events again/, "warn")).toHaveLength(1);
  });
});

describe("Retry-After", () => {
  test("delay-seconds is waited out before the next request", async () => {
    t.store.behave = (_, i) => (i === 0 ? { status: 429, headers: { "retry-after": "1" } } : { accept: true });
    const h = t.forward();
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.events()).toEqual(["a"]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(990);
  });

  test("an HTTP date is waited out too", async () => {
    const until = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000);
    t.store.behave = (_, i) =>
      i === 0 ? { status: 503, headers: { "retry-after": until.toUTCString() } } : { accept: true };
    const h = t.forward();
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.events()).toEqual(["a"]);
    expect(t.store.requests[1]!.at).toBeGreaterThanOrEqual(until.getTime() - 10);
  });

  test("is capped by maxRetryAfterMs: an hour becomes 50 ms", async () => {
    t.store.behave = (_, i) => (i === 0 ? { status: 429, headers: { "retry-after": "3600" } } : { accept: true });
    const h = t.forward({ maxRetryAfterMs: 50 });
    putAll(["a"]);
    await h.events.flush(); // would hang for an hour without the cap (the test times out first)
    expect(t.store.events()).toEqual(["a"]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(45);
  });

  test("never shortens the backoff", async () => {
    t.store.behave = (_, i) => (i === 0 ? { status: 500, headers: { "retry-after": "0" } } : { accept: true });
    const h = t.forward({ backoffBaseMs: 300, backoffMaxMs: 300 });
    putAll(["a"]);
    await h.events.flush();
    expect(gaps()[0]).toBeGreaterThanOrEqual(145);
  });
});

describe("backoff, budget and timeout", () => {
  test("the pause between attempts grows exponentially (equal jitter: at least half of each step)", async () => {
    t.store.behave = (_, i) => (i < 4 ? { status: 500 } : { accept: true });
    const h = t.forward({ maxAttempts: 10, backoffBaseMs: 60, backoffMaxMs: 10_000 });
    putAll(["a"]);
    await h.events.flush();
    const g = gaps();
    expect(g).toHaveLength(4);
    [60, 120, 240, 480].forEach((step, i) => expect(g[i]).toBeGreaterThanOrEqual(step / 2 - 5));
    expect(t.store.events()).toEqual(["a"]);
  });

  test("retryBudgetMs: the last pause is cut to what is left of the budget, for one more attempt at its end", async () => {
    // As baseplate's RetryPolicy. The first pause is 500..1000 ms (fits in 1200); the second,
    // 1000..2000 ms, would end past the budget: it is cut to what is left, and the third attempt
    // comes at the budget's end (uncut, it would come 1500 ms or more after the first). No retry
    // starts after it.
    t.store.behave = () => ({ status: 500 });
    const h = t.forward({ maxAttempts: 100, retryBudgetMs: 1_200, backoffBaseMs: 1_000, backoffMaxMs: 10_000 });
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.requests).toHaveLength(3);
    const fromFirst = t.store.requests[2]!.at - t.store.requests[0]!.at;
    expect(fromFirst).toBeGreaterThanOrEqual(1_195);
    expect(fromFirst).toBeLessThan(1_450);
    expect(h.drops[0]!.reason).toContain("retry budget is used up, option retryBudgetMs");
  });

  test("retryBudgetMs: a Retry-After longer than what is left of the budget is not cut: the batch gives up", async () => {
    t.store.behave = (_, i) => (i === 0 ? { status: 500 } : { status: 500, headers: { "retry-after": "1" } });
    const h = t.forward({
      maxAttempts: 100,
      retryBudgetMs: 400,
      backoffBaseMs: 20,
      backoffMaxMs: 20,
      maxRetryAfterMs: 5_000,
    });
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.requests).toHaveLength(2);
    expect(h.drops[0]!.reason).toContain("retry budget is used up");
  });

  test("requestTimeoutMs: a store that does not answer in time is retried", async () => {
    t.store.behave = (_, i) => (i === 0 ? { hangMs: 5_000 } : { accept: true });
    const h = t.forward({ requestTimeoutMs: 1_000 });
    putAll(["a", "b"]);
    await h.events.flush();
    expect(t.store.events()).toEqual(["a", "b"]);
    expect(h.events.stats()).toMatchObject({ requests: 2, failedRequests: 1, sent: 2 });
    expect(logged(h, /timed out \(option requestTimeoutMs\)/, "warn")).toHaveLength(1);
  });

  test("a store that is always too slow costs maxAttempts timeouts, then a drop that says why", async () => {
    t.store.behave = () => ({ hangMs: 5_000 });
    const h = t.forward({ requestTimeoutMs: 50, maxAttempts: 2 });
    putAll(["a"]);
    await h.events.flush();
    expect(t.store.requests).toHaveLength(2);
    expect(h.drops[0]!.reason).toMatch(/timed out.*gave up after 2 attempts/);
  });
});

describe("one request in flight (see also one-in-flight.test.ts)", () => {
  test("the rate limit holds across retries: at most maxRate requests in any timePeriod", async () => {
    t.store.behave = (_, i) => (i < 3 ? { status: 500 } : { accept: true });
    const watch = watchForwarderStarts();
    const h = t.forward({ maxRate: 2, timePeriod: 0.2, batchLimit: 2, maxAttempts: 10 });
    putAll(names("e", 6));
    await waitFor(() => h.events.stats().sent === 6, { what: "all six events", timeoutMs: 10_000 });
    watch.stop();
    expect(watch.starts).toHaveLength(6);
    assertRate(watch.starts, 2, 200);
  });
});

describe("a sink that breaks its contract", () => {
  test("a throwing send() is a network error: retried, counted, never thrown into the app", async () => {
    const seen: string[][] = [];
    let calls = 0;
    const sink = {
      description: "custom sink",
      async send(events: readonly QueuedEvent[]): Promise<SendResult> {
        if (calls++ === 0) throw new TypeError("sink bug");
        seen.push(events.map((event) => event.json));
        return { ok: true };
      },
    };
    const settings = forwarderSettings(10);
    const forwarder = new Forwarder({ settings, sink, queue: new MemoryQueue(10), rateLimit: new RateLimiter(100, 0) });
    forwarder.enqueue({ json: '"x"', bytes: 3 });
    await forwarder.flush();
    expect(seen).toEqual([['"x"']]);
    expect(forwarder.stats()).toMatchObject({ sent: 1, failedRequests: 1, retried: 1 });
    await forwarder.stop(100);
  });
});
