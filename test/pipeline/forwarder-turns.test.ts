// The forwarder's turns, on a forwarder built by hand: when it takes a batch (and when it does
// not turn at all), what flush() waits for, what it does when a turn fails, and the bounds put()
// meets before the queue's own.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RequestEventShareFullError } from "../../src/core/errors.js";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import type { ForwarderParts } from "../../src/pipeline/forwarder-contract.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import type { ForwarderObserver } from "../../src/pipeline/observer.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter, type RateLimit } from "../../src/pipeline/rate-limit.js";
import { LEASE_AFTER_FAILED_READS } from "../../src/pipeline/read-failures.js";
import type { Sink } from "../../src/pipeline/sink.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import { forwarderSettings } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { eventsOf, REJECTED, scriptedSink, untilStopped } from "../helpers/scripted-sink.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { gate, waitFor, withDeadline } from "../helpers/wait.js";

const tempDir = useTempDirs();

function build(sink: Sink, parts: Partial<ForwarderParts> & { settings?: object } = {}) {
  const logger = recordingLogger();
  const forwarder = new Forwarder({
    queue: new MemoryQueue(100),
    rateLimit: new RateLimiter(100, 0),
    ...parts,
    sink,
    settings: { ...forwarderSettings(4), ...parts.settings, logger },
  });
  onCleanup(() => forwarder.stop(50));
  return { forwarder, logger };
}

const put = (forwarder: Forwarder, names: string[]) => eventsOf(names).forEach((event) => forwarder.enqueue(event));

/** A rate limit that counts its calls, and what acquire() was asked (force or not). */
class CountingRate implements RateLimit {
  delays = 0;
  readonly forced: boolean[] = [];
  constructor(private readonly inner: RateLimit = new RateLimiter(100, 0)) {}
  delay(): Promise<number> {
    this.delays++;
    return this.inner.delay();
  }
  acquire(force: boolean): Promise<number> {
    this.forced.push(force);
    return this.inner.acquire(force);
  }
}

/** Lets `ms` of real time pass: the span over which a test counts turns that should not happen. */
const span = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("when the forwarder turns", () => {
  it("idle, it takes no turn; while the rate window is closed, it waits it out instead of asking again", async () => {
    const rate = new CountingRate();
    const { forwarder } = build(scriptedSink(), { rateLimit: rate });
    put(forwarder, ["1"]);
    await waitFor(() => forwarder.stats().sent === 1, { what: "the event sent" });
    const idle = rate.delays;
    await span(200);
    expect(rate.delays).toBe(idle);

    const closed = new CountingRate({ delay: async () => 60_000, acquire: async () => 60_000 });
    const waiting = build(scriptedSink(), { rateLimit: closed }).forwarder;
    put(waiting, ["1"]);
    await waitFor(() => closed.delays === 1, { what: "the turn that finds the window closed" });
    await span(200);
    expect(closed.delays).toBe(1);
  });

  it("events put while the rate window is closed join one batch, taken when it opens", async () => {
    const rate = new CountingRate(new RateLimiter(1, 1_000));
    const sink = scriptedSink();
    const { forwarder } = build(sink, { rateLimit: rate });
    put(forwarder, ["1"]);
    await waitFor(() => forwarder.stats().sent === 1, { what: "the first batch" });
    const asked = rate.delays;
    put(forwarder, ["2"]);
    await waitFor(() => rate.delays > asked, { what: "the turn that finds the window closed" });
    put(forwarder, ["3"]);
    await waitFor(() => forwarder.stats().sent === 3, { what: "the second batch" });
    expect(sink.batches).toEqual([["1"], ["2", "3"]]);
  });

  it("batchWaitMs counts from a batch's oldest event: one that joins late does not hold the batch back", async () => {
    // The rate limit asks for 100 ms once, when the batch's wait ends: the forwarder waits again,
    // for the later of the two, with the batch's wait counted from its first event.
    let asked = 0;
    const rate = { delay: async () => (asked++ === 0 ? 100 : 0), acquire: async () => 0 };
    const sink = scriptedSink();
    const { forwarder } = build(sink, { rateLimit: rate, settings: { ...forwarderSettings(100), batchWaitMs: 2_000 } });
    const started = Date.now();
    put(forwarder, ["first"]);
    await span(1_000);
    put(forwarder, ["late"]);
    await waitFor(() => forwarder.stats().sent === 2, { what: "the batch" });
    // At 2,000 + 100 ms; a wait counted from the late event would end at 1,000 + 2,000 ms.
    expect(Date.now() - started).toBeLessThan(2_550);
    expect(sink.batches).toEqual([["first", "late"]]);
  });

  it("what is left after a batch full by bytes goes at once when it is full by bytes too", async () => {
    const release = gate();
    const sink = scriptedSink(async (batch) => {
      if (batch[0] === "1") await release.promise;
      return { ok: true };
    });
    const settings = { ...forwarderSettings(100), batchWaitMs: 60_000, maxBatchBytes: 20 };
    const { forwarder } = build(sink, { settings });
    put(forwarder, ["1", "2"]);
    await waitFor(() => sink.batches.length === 1, { what: "the first batch in flight" });
    put(forwarder, ["3", "4"]);
    release.open();
    await waitFor(() => forwarder.stats().sent === 4, { what: "the second batch, full by bytes", timeoutMs: 3_000 });
    expect(sink.batches).toEqual([
      ["1", "2"],
      ["3", "4"],
    ]);
  });
});

describe("flush()", () => {
  it("delivers what was accepted before the call, and does not wait for what came after", async () => {
    const release = gate();
    const sink = scriptedSink(async (batch, signal) => {
      if (batch[0] === "1") await release.promise;
      return batch[0] === "2" ? untilStopped(signal) : { ok: true };
    });
    const { forwarder } = build(sink);
    put(forwarder, ["1"]);
    await waitFor(() => sink.batches.length === 1, { what: "the first batch in flight" });
    const flushed = forwarder.flush();
    put(forwarder, ["2"]);
    release.open();
    await withDeadline(flushed, 3_000, "flush() of the first event");
    expect(forwarder.stats()).toMatchObject({ sent: 1, queued: 1 });
  });

  it("flush(alone), while another batch is in flight, ends once that batch is done", async () => {
    const release = gate();
    const sink = scriptedSink(async () => {
      await release.promise;
      return { ok: true };
    });
    const { forwarder } = build(sink);
    put(forwarder, ["1"]);
    await waitFor(() => sink.batches.length === 1, { what: "the batch in flight" });
    const flushed = forwarder.flush(true);
    release.open();
    await withDeadline(flushed, 3_000, "flush(alone)");
    expect(forwarder.stats().sent).toBe(1);
  });

  it("lifts the rate limit for its own batches only: after it, the limit applies again", async () => {
    const rate = new CountingRate();
    const { forwarder } = build(scriptedSink(), { rateLimit: rate, settings: forwarderSettings(1) });
    put(forwarder, ["1", "2"]);
    await forwarder.flush();
    const asked = rate.delays;
    put(forwarder, ["3"]);
    await waitFor(() => forwarder.stats().sent === 3, { what: "the event put after flush()" });
    expect(rate.delays).toBeGreaterThan(asked);
    expect(rate.forced.at(-1)).toBe(false);
  });

  it("ends when the queue's publisher lease is lost while a batch is being retried", async () => {
    const queue = new MemoryQueue(100);
    const sink = scriptedSink(() => {
      if (sink.batches.length === 3) (queue as { publishing: boolean }).publishing = false;
      return { ok: false, retry: true, unreachable: true, reason: "HTTP 503" };
    });
    const { forwarder } = build(sink, { queue });
    put(forwarder, ["1"]);
    await withDeadline(forwarder.flush(), 3_000, "flush() after the lease was lost");
    expect(sink.batches).toHaveLength(3);
    expect(forwarder.stats()).toMatchObject({ sent: 0, dropped: 0, queued: 1 });
  });
});

describe("a failed turn", () => {
  /** A queue whose reads fail while `broken`. */
  class FailingReads extends MemoryQueue {
    broken = true;
    override take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]> {
      return this.broken ? Promise.reject(new Error("disk I/O error")) : super.take(maxCount, maxBytes);
    }
  }

  /** A queue with a publisher lease to give up, counting the times it is asked to. */
  class LeasedQueue extends MemoryQueue {
    standDowns = 0;
    standDown(): Promise<void> {
      this.standDowns++;
      return Promise.resolve();
    }
  }

  it("a read of the queue that keeps failing: the queue's words, flush() ends, and the turns back off until it reads again", async () => {
    const queue = new FailingReads(100);
    // No observer but the forwarder's own counters, which have no onTurnFailed.
    const { forwarder } = build(scriptedSink(), { queue });
    put(forwarder, ["1"]);
    await withDeadline(forwarder.flush(), 3_000, "flush() while reads fail");
    await waitFor(() => forwarder.stats().failedTurns > LEASE_AFTER_FAILED_READS + 1, { what: "failed reads" });
    expect(forwarder.stats()).toMatchObject({ failure: "reading the queue failed: disk I/O error", queued: 1 });
    queue.broken = false;
    await waitFor(() => forwarder.stats().sent === 1, { what: "the event, once the queue reads again" });
  });

  it("each failed read is reported in the read's words, including the one after which a queue without a lease would stand down", async () => {
    const reasons: string[] = [];
    const observer: ForwarderObserver = {
      onRequestStart() {},
      onRequest() {},
      onSent() {},
      onDrop() {},
      onOverflow() {},
      onTurnFailed: (count, reason) => void reasons.push(`${count}: ${reason}`),
    };
    const queue = new FailingReads(100);
    const { forwarder } = build(scriptedSink(), { queue, observers: [observer] });
    put(forwarder, ["1"]);
    await waitFor(() => reasons.length > LEASE_AFTER_FAILED_READS + 1, { what: "failed reads" });
    const expected = reasons.map((_, i) => `${i + 1}: reading the queue failed: disk I/O error`);
    expect(reasons).toEqual(expected);
    queue.broken = false;
  });

  it("a part that throws unexpectedly: its stack is reported, and it is not a failed read (no stand-down)", async () => {
    const queue = new LeasedQueue(100);
    const broken = { delay: () => Promise.reject(new Error("rate limit bug")), acquire: async () => 0 };
    const { forwarder } = build(scriptedSink(), { queue, rateLimit: broken });
    put(forwarder, ["1"]);
    await waitFor(() => forwarder.stats().failedTurns > LEASE_AFTER_FAILED_READS + 1, { what: "failed turns" });
    expect(forwarder.stats().failure).toMatch(/^failed unexpectedly: Error: rate limit bug\n +at /);
    expect(queue.standDowns).toBe(0);
  });

  it("events to drop that the dead letters cannot keep stay queued; the turn fails, naming how many, flush() ends, and the lease stays", async () => {
    const deadLetters = new SqliteDeadLetters(join(tempDir(), "no-such-directory", "dead.db"), 10, recordingLogger());
    // Of a batch of three, the store takes the first two and refuses the third.
    const sink = scriptedSink((batch) => (batch.includes("bad") ? REJECTED : { ok: true }));
    const queue = new LeasedQueue(100);
    const { forwarder } = build(sink, { deadLetters, queue });
    put(forwarder, ["1", "2", "bad"]);
    await withDeadline(forwarder.flush(), 3_000, "flush()");
    expect(forwarder.stats()).toMatchObject({
      sent: 2,
      dropped: 0,
      queued: 1,
      failure: "1 event(s) to drop could not be kept as dead letters",
    });
    // Tried again and again, with backoff: the queue reads well, so its lease is not given up.
    await waitFor(() => forwarder.stats().failedTurns > LEASE_AFTER_FAILED_READS + 1, { what: "more tries" });
    expect(queue.standDowns).toBe(0);
  });
});

describe("put() before the queue's bound", () => {
  it("request events stop at their share of the queue's bytes", () => {
    const settings = { ...forwarderSettings(100), batchWaitMs: 60_000, maxQueueSize: 100, maxQueueBytes: 40 };
    const { forwarder } = build(scriptedSink(), { settings, queue: new MemoryQueue(100, 40), requestEventShare: 0.5 });
    const [a, b, c] = eventsOf(["a", "b", "c"]);
    forwarder.enqueue(a!, true);
    forwarder.enqueue(b!, true);
    expect(() => forwarder.enqueue(c!, true)).toThrow(RequestEventShareFullError);
    forwarder.enqueue(c!); // a handler's event still has the rest
    expect(forwarder.stats()).toMatchObject({ queued: 3, overflowed: 1 });
  });

  it("a queue past half its bound is reported, with no observer but the forwarder's own counters", () => {
    const settings = { ...forwarderSettings(100), batchWaitMs: 60_000, maxQueueSize: 10 };
    const { forwarder, logger } = build(scriptedSink(), { settings, queue: new MemoryQueue(10) });
    put(forwarder, ["1", "2", "3", "4", "5", "6"]);
    expect(logger.messages).toEqual([expect.stringMatching(/^warn: .*6 .*10/)]);
  });

  it("a push that fails for another reason than a full queue is not counted as overflow", () => {
    class BrokenPush extends MemoryQueue {
      override push(): void {
        throw new TypeError("queue bug");
      }
    }
    const { forwarder, logger } = build(scriptedSink(), { queue: new BrokenPush(10) });
    expect(() => put(forwarder, ["1"])).toThrow(TypeError);
    expect(forwarder.stats().overflowed).toBe(0);
    expect(logger.messages).toEqual([]);
  });
});
