// The sender of one batch on its own, to a real (test) store over HTTP: what it holds and what it
// gives back, how long it pauses, what it tells the log and the observers, and what ends it.
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { BatchSender, STOPPED_REASON, type RetrySettings } from "../../src/pipeline/batch-sender.js";
import type { ForwarderObserver, Holding } from "../../src/pipeline/observer.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import type { RateLimit } from "../../src/pipeline/rate-limit.js";
import type { Sink } from "../../src/pipeline/sink.js";
import { StopSignal, type Stopping } from "../../src/pipeline/stop-signal.js";
import { reasonKind } from "../../src/spool/dead-letters.js";
import { datasetteSink } from "../../src/stores/datasette/sink.js";
import { undiciTransport } from "../../src/stores/transport.js";
import type { Behaviour } from "../helpers/test-store.js";
import { onCleanup, startStore } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { waitFor } from "../helpers/wait.js";

const batch: QueuedEvent[] = [
  { json: '{"id":"01J00000000000000000000001","event":"a"}', bytes: 45 },
  { json: '{"id":"01J00000000000000000000002","event":"b"}', bytes: 45 },
];

const noLimit: RateLimit = { delay: () => Promise.resolve(0), acquire: () => Promise.resolve(0) };

/** What the sender told its observer, in order. */
function recordingObserver() {
  const heard = {
    starts: [] as Array<[number, boolean, number | undefined]>,
    requests: [] as Array<[boolean, number]>,
    durations: [] as number[],
    retries: [] as Array<[number, number]>,
    holding: [] as Array<Holding | undefined>,
  };
  const observer: ForwarderObserver = {
    onRequestStart: (events, retry, bytes) => heard.starts.push([events, retry, bytes]),
    onRequest: (result, ms, events) => {
      heard.durations.push(ms);
      heard.requests.push([result.ok, events]);
    },
    onSent: () => {},
    onDrop: () => {},
    onOverflow: () => {},
    onRetry: (attempt, delayMs) => heard.retries.push([attempt, delayMs]),
    onHolding: (holding) => heard.holding.push(holding),
  };
  return { heard, observer };
}

/** A sender to a test store that answers as `answers` say, one a request (then accepts). */
async function senderTo(
  answers: Behaviour[],
  more: Partial<RetrySettings> & {
    rateLimit?: RateLimit;
    mayAttempt?: () => boolean;
    url?: string;
    stopping?: Stopping;
    /** The observer, from the recording one. */
    observer?: (recording: ForwarderObserver) => ForwarderObserver;
    /** The sink, from the store's. */
    sink?: (datasette: Sink) => Sink;
  } = {},
) {
  const store = await startStore((_, index) => answers[index] ?? { accept: true });
  const transport = undiciTransport(Agent);
  onCleanup(() => transport.close());
  const storeSink = datasetteSink({
    apiUrl: new URL(more.url ?? store.url()),
    table: "events",
    requestTimeoutMs: 2_000,
    transport,
  });
  const sink = more.sink?.(storeSink) ?? storeSink;
  const logger = recordingLogger();
  const settings: RetrySettings = {
    maxAttempts: 3,
    retryBudgetMs: 60_000,
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    maxRetryAfterMs: 60_000,
    ...more,
    logger,
  };
  const stop = new StopSignal();
  const stopping = more.stopping ?? stop;
  const { heard, observer } = recordingObserver();
  const sender = new BatchSender({
    settings,
    sink,
    rateLimit: more.rateLimit ?? noLimit,
    stopping,
    observer: more.observer?.(observer) ?? observer,
    waiting: () => 7,
    ...(more.mayAttempt === undefined ? {} : { mayAttempt: more.mayAttempt }),
  });
  return { store, sender, logger, heard, stopping: stop, description: sink.description };
}

const status = (code: number, headers: Record<string, string> = {}): Behaviour => ({
  status: code,
  headers,
  body: JSON.stringify({ ok: false, errors: [`answer ${code}`] }),
});

describe("BatchSender", () => {
  it("sends a batch the store takes at once: one request, told to the observer, nothing logged", async () => {
    const { sender, store, logger, heard } = await senderTo([]);
    const before = performance.now();
    expect(await sender.send(batch, 90)).toEqual({ ok: true });
    expect(heard.durations[0]).toBeGreaterThanOrEqual(0);
    expect(heard.durations[0]).toBeLessThanOrEqual(performance.now() - before);
    expect(store.events()).toEqual(["a", "b"]);
    expect(heard.starts).toEqual([[2, false, 90]]);
    expect(heard.requests).toEqual([[true, 2]]);
    expect(heard.holding).toEqual([]); // it never held: nothing to end
    expect(logger.messages).toEqual([]);
  });

  it("a refused sender (401, then 403) holds the batch without using attempts: one warning an episode, the holding state with its start, and one line when the store takes it", async () => {
    const { sender, store, logger, heard, description } = await senderTo(
      [status(401), status(401), status(403), status(403)],
      { maxAttempts: 1 },
    );
    const before = Date.now();
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(store.requests).toHaveLength(5);
    expect(heard.starts.map(([, retry]) => retry)).toEqual([false, true, true, true, true]);
    expect(heard.holding.map((holding) => holding?.answer)).toEqual(["HTTP 401", "HTTP 403", undefined]);
    const since = heard.holding[0]!.since;
    expect(since).toBeGreaterThanOrEqual(before);
    expect(heard.holding[1]!.since).toBe(since); // the same episode
    expect(heard.holding[0]!.reason).toMatch(/401/);
    expect(logger.messages).toHaveLength(2);
    expect(logger.messages[0]).toMatch(
      new RegExp(`^warn: ${description}: .*401.*; holding 7 event\\(s\\), retrying with backoff until it takes them$`),
    );
    expect(logger.messages[1]).toBe(`warn: ${description} accepts events again`);

    // A new episode warns again; a success after a success says nothing.
    store.behave = (_, index) => (index === 5 ? status(403) : { accept: true });
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(logger.messages).toHaveLength(4);
    expect(logger.messages[2]).toMatch(/; holding 7 event\(s\)/);
    expect(logger.messages[3]).toBe(`warn: ${description} accepts events again`);
    expect(heard.holding.at(-2)!.since).toBeGreaterThanOrEqual(since);
  });

  it("an observer without onHolding or onRetry is fine", async () => {
    const { sender, store } = await senderTo([status(401)], {
      observer: (recording) => ({ ...recording, onHolding: undefined, onRetry: undefined }),
    });
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(store.requests).toHaveLength(2);
  });

  it("a custom sink that throws is a network error: retried, then given back with its message", async () => {
    const { sender } = await senderTo([], {
      maxAttempts: 2,
      sink: (datasette) => ({
        ...datasette,
        ready: undefined, // optional
        send: () => {
          throw new Error("the sink broke");
        },
      }),
    });
    const result = await sender.send(batch);
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect((result as { reason: string }).reason).toMatch(/^network error: the sink broke \(gave up after 2 attempts/);
  });

  it("a refusal backs off up to twice backoffMaxMs; an unreachable store up to backoffMaxMs", async () => {
    const refused = await senderTo(Array.from({ length: 6 }, () => status(401)));
    await refused.sender.send(batch);
    const refusedWaits = refused.heard.retries.map(([, wait]) => wait);
    expect(refused.heard.retries.map(([attempt]) => attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Math.max(...refusedWaits)).toBeGreaterThan(20);
    expect(Math.max(...refusedWaits)).toBeLessThanOrEqual(40);

    const unreachable = await senderTo([], { url: "http://127.0.0.1:9/data/-/create" });
    const sent = unreachable.sender.send(batch);
    await waitFor(() => unreachable.heard.retries.length >= 6, { what: "six retries" });
    unreachable.stopping.abort();
    expect(await sent).toEqual({ ok: false, stopped: true, reason: STOPPED_REASON });
    const waits = unreachable.heard.retries.map(([, wait]) => wait);
    expect(Math.max(...waits)).toBeLessThanOrEqual(20);
    expect(Math.max(...waits)).toBeGreaterThanOrEqual(10);
    expect(unreachable.heard.holding[0]).toMatchObject({ answer: expect.stringMatching(/\S/) });
  });

  it("a 500 uses attempts: logged once, then given back after maxAttempts, with the attempts and why", async () => {
    const { sender, logger, heard, description } = await senderTo([status(500), status(500), status(500)]);
    const result = await sender.send(batch);
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 3 });
    expect((result as { reason: string }).reason).toMatch(/ \(gave up after 3 attempts, option maxAttempts\)$/);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(new RegExp(`^warn: ${description}: .*500.*; retrying with backoff$`));
    expect(heard.holding).toEqual([]);
    expect(heard.retries.map(([attempt]) => attempt)).toEqual([1, 2]);
  });

  it("an answer about the events (400) is given back at once; after a failure, with the count of attempts", async () => {
    const first = await senderTo([status(400)]);
    const result = await first.sender.send(batch);
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(result).not.toHaveProperty("attempts");
    expect(first.store.requests).toHaveLength(1);

    const later = await senderTo([status(500), status(400)]);
    expect(await later.sender.send(batch)).toMatchObject({ ok: false, status: 400, attempts: 2 });
  });

  it("an answer the batch's halves got too (holdOn) is held, not given back", async () => {
    const { sender, store } = await senderTo([status(500), status(500), status(500)], { maxAttempts: 1 });
    expect(
      await sender.send(batch, undefined, {
        ok: false,
        retry: true,
        status: 500,
        reason: "Datasette answered HTTP 500: answer 500 (gave up after 1 attempts, option maxAttempts)",
      }),
    ).toEqual({
      ok: true,
    });
    expect(store.requests).toHaveLength(4);
  });

  it("the retry budget: the batch is given back once it is used up, and at once when Retry-After asks for more than is left", async () => {
    const spent = await senderTo(
      Array.from({ length: 50 }, () => status(500)),
      { maxAttempts: 100, retryBudgetMs: 60 },
    );
    const started = Date.now();
    const result = await spent.sender.send(batch);
    expect((result as { reason: string }).reason).toMatch(
      / \(gave up: the 60 ms retry budget is used up, option retryBudgetMs\)$/,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    // The last pause is cut to what is left: no wait past the budget.
    for (const [, wait] of spent.heard.retries) expect(wait).toBeLessThanOrEqual(60);

    const asked = await senderTo([status(500, { "Retry-After": "5" })], { maxAttempts: 100, retryBudgetMs: 1_000 });
    expect(await asked.sender.send(batch)).toMatchObject({ ok: false, status: 500, attempts: 1 });
    expect(asked.store.requests).toHaveLength(1);
  });

  it("waits out a Retry-After (capped by maxRetryAfterMs) when it is longer than the backoff", async () => {
    const { sender, heard } = await senderTo([status(500, { "Retry-After": "1" })], { maxRetryAfterMs: 150 });
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(heard.retries).toEqual([[1, 150]]);
  });

  it("a holder that lost its lease sends nothing more", async () => {
    let may = true;
    const { sender, store, heard } = await senderTo([status(500)], {
      mayAttempt: () => may,
      backoffBaseMs: 400,
      backoffMaxMs: 400,
    });
    const sent = sender.send(batch);
    await waitFor(() => heard.retries.length === 1, { what: "the first request's failure" });
    may = false;
    expect(await sent).toEqual({
      ok: false,
      stopped: true,
      reason: "this process no longer holds the spool's publisher lease: the next holder sends the batch",
    });
    expect(store.requests).toHaveLength(1);
  });

  it("close()'s stop ends a rate wait and a backoff at once, and a stop before the send sends nothing", async () => {
    const stopped = { ok: false, stopped: true, reason: STOPPED_REASON };
    const full: RateLimit = { delay: () => Promise.resolve(60_000), acquire: () => Promise.resolve(60_000) };
    const waiting = await senderTo([], { rateLimit: full });
    const sent = waiting.sender.send(batch);
    await new Promise((resolve) => setTimeout(resolve, 50));
    waiting.stopping.abort();
    expect(await sent).toEqual(stopped);
    expect(waiting.store.requests).toEqual([]);
    expect(reasonKind({ answer: STOPPED_REASON })).toBe("closed"); // as the dead letters group it
    let asked = 0;
    const counting: RateLimit = { delay: () => Promise.resolve(0), acquire: () => Promise.resolve(asked++ && 0) };
    const late = await senderTo([], { rateLimit: counting });
    late.stopping.abort();
    expect(await late.sender.send(batch)).toEqual(stopped);
    expect(asked).toBe(0); // no rate slot taken
    expect(late.heard.starts).toEqual([]);

    const backingOff = await senderTo([status(500)], { backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    const retried = backingOff.sender.send(batch);
    await waitFor(() => backingOff.heard.retries.length === 1, { what: "the backoff" });
    backingOff.sender.setUrgent(true); // flush() lifts the rate limit, not the backoff
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(backingOff.store.requests).toHaveLength(1);
    backingOff.stopping.abort();
    expect(await retried).toEqual(stopped);
  });

  it("a request cut short by close() is not a failure of the store: nothing told, stopped", async () => {
    const { sender, store, stopping, heard } = await senderTo([{ hangMs: 5_000 }]);
    const sent = sender.send(batch);
    await waitFor(() => store.requests.length === 1, { what: "the request" });
    stopping.abort();
    expect(await sent).toEqual({ ok: false, stopped: true, reason: STOPPED_REASON });
    expect(heard.starts).toHaveLength(1);
    expect(heard.requests).toEqual([]);
  });

  it("each pause lets go of close()'s stop signal when it ends", async () => {
    const listeners = new Set<() => void>();
    let added = 0;
    const stopping: Stopping = {
      aborted: false,
      addEventListener: (_type, listener) => (added++, listeners.add(listener)),
      removeEventListener: (_type, listener) => listeners.delete(listener),
    };
    const { sender } = await senderTo([status(500), status(500)], { stopping });
    expect(await sender.send(batch)).toEqual({ ok: true });
    expect(added).toBeGreaterThanOrEqual(2);
    expect(listeners.size).toBe(0);
  });

  it("flush() or close() waiting (urgent) lifts the rate limit, and wakes a send waiting for it", async () => {
    const forced: boolean[] = [];
    const rateLimit: RateLimit = {
      delay: () => Promise.resolve(0),
      acquire: (force) => {
        forced.push(force);
        return Promise.resolve(force ? 0 : 60_000);
      },
    };
    const { sender, store } = await senderTo([], { rateLimit });
    expect(sender.urgent).toBe(false);
    const sent = sender.send(batch);
    await waitFor(() => forced.length === 1, { what: "the rate wait" });
    sender.setUrgent(true);
    sender.setUrgent(true);
    expect(await sent).toEqual({ ok: true });
    expect(forced).toEqual([false, true]);
    expect(store.events()).toEqual(["a", "b"]);
    sender.setUrgent(false);
    expect(sender.urgent).toBe(true); // one waiter left
    sender.setUrgent(false);
    expect(sender.urgent).toBe(false);
  });
  it("flush() that begins while the rate limit is being asked (a round trip to Redis) still lifts it", async () => {
    let answer: (wait: number) => void = () => {};
    const forced: boolean[] = [];
    const rateLimit: RateLimit = {
      delay: () => Promise.resolve(0),
      acquire: (force) => {
        forced.push(force);
        return force ? Promise.resolve(0) : new Promise((resolve) => (answer = resolve));
      },
    };
    const { sender, store } = await senderTo([], { rateLimit });
    const sent = sender.send(batch);
    await waitFor(() => forced.length === 1, { what: "the rate limit to be asked" });
    sender.setUrgent(true); // flush() begins while the answer is on its way
    answer(60_000);
    const started = Date.now();
    expect(await sent).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(forced).toEqual([false, true]);
    expect(store.events()).toEqual(["a", "b"]);
  });
});
