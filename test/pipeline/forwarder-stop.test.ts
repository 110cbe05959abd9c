// The forwarder's stop, on a forwarder built by hand: what a memory queue drops at the deadline
// and in which batches, what a durable queue keeps of a batch cut short, what stop() sends (and
// what it no longer sends after), and the counts closeResult() and resultNow() report.
import { describe, expect, it } from "vitest";
import { STOPPED_REASON } from "../../src/pipeline/batch-sender.js";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { Sink } from "../../src/pipeline/sink.js";
import { forwarderSettings } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { eventsOf, REJECTED, scriptedSink, untilStopped } from "../helpers/scripted-sink.js";
import { waitFor } from "../helpers/wait.js";

/** A spool's contract on a memory queue: what is left at close() outlives the process. */
class DurableQueue extends MemoryQueue {
  override readonly durable = true;
}

function build(sink: Sink, queue: MemoryQueue, settings: object = {}, rateLimit = new RateLimiter(100, 0)) {
  const drops: Array<{ events: string[]; reason: string }> = [];
  const logger = recordingLogger();
  const forwarder = new Forwarder({
    settings: {
      ...forwarderSettings(4),
      onDrop: (events: string[], reason: string) => drops.push({ events, reason }),
      ...settings,
      logger,
    },
    sink,
    queue,
    rateLimit,
  });
  onCleanup(() => forwarder.stop(50));
  return { forwarder, drops, logger };
}

const put = (forwarder: Forwarder, names: string[]) => eventsOf(names).forEach((event) => forwarder.enqueue(event));

/**
 * A batch of four the store refuses as a whole; of its halves it takes the first, and never
 * answers the second (until close() cuts it short): the batch is half done at the deadline.
 */
const halfDone = () =>
  scriptedSink((batch, signal) =>
    batch.length === 4 ? REJECTED : batch[0] === "1" ? { ok: true } : untilStopped(signal),
  );

describe("a memory queue at the deadline", () => {
  it("drops the part of the batch in flight that was not done, then the rest of the queue; the part done counts as delivered", async () => {
    const sink = halfDone();
    const { forwarder, drops } = build(sink, new MemoryQueue(100));
    put(forwarder, ["1", "2", "3", "4", "5", "6"]);
    await waitFor(() => sink.batches.length === 3, { what: "the second half in flight" });
    await forwarder.stop(50);
    expect(drops).toEqual([
      { events: ["3", "4"], reason: STOPPED_REASON },
      { events: ["5", "6"], reason: STOPPED_REASON },
    ]);
    expect(forwarder.stats()).toMatchObject({ sent: 2, dropped: 4, queued: 0 });
    expect(forwarder.closeResult(undefined)).toEqual({ delivered: 2, undelivered: 4 });
  });

  it("a batch the store takes just as the deadline cuts it short counts as delivered: nothing is dropped", async () => {
    const sink = scriptedSink(
      (_batch, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ ok: true }))),
    );
    const { forwarder, drops, logger } = build(sink, new MemoryQueue(100));
    put(forwarder, ["1", "2", "3", "4"]);
    await waitFor(() => sink.batches.length === 1, { what: "the batch in flight" });
    await forwarder.stop(50);
    expect(drops).toEqual([]);
    expect(logger.messages).toEqual([]);
    expect(forwarder.closeResult(undefined)).toEqual({ delivered: 4, undelivered: 0 });
  });
});

describe("a durable queue", () => {
  it("at the deadline, settles the part of the batch in flight that was done and keeps the rest, in order", async () => {
    const sink = halfDone();
    const queue = new DurableQueue(100);
    const { forwarder, drops } = build(sink, queue);
    put(forwarder, ["1", "2", "3", "4", "5", "6"]);
    await waitFor(() => sink.batches.length === 3, { what: "the second half in flight" });
    await forwarder.stop(50);
    expect(drops).toEqual([]);
    expect(forwarder.stats()).toMatchObject({ sent: 2, dropped: 0 });
    expect((await queue.take(10, 1e6)).map((event) => event.json)).toEqual(["3", "4", "5", "6"]);
    expect(forwarder.closeResult(undefined)).toEqual({ delivered: 2, undelivered: 4, spooled: 4 });
  });

  it("stop() does not drain (what is left waits for the next publisher, at the rate limit), and nothing is sent after it", async () => {
    const sink = scriptedSink();
    const queue = new DurableQueue(100);
    const { forwarder } = build(sink, queue, forwarderSettings(1), new RateLimiter(1, 60_000));
    put(forwarder, ["1"]);
    await waitFor(() => forwarder.stats().sent === 1, { what: "the first request" });
    put(forwarder, ["2", "3"]);
    await forwarder.stop(5_000);
    expect(sink.batches).toEqual([["1"]]);
    // A flush() after stop() finds the forwarder stopped: it sends nothing.
    await forwarder.flush();
    expect(sink.batches).toEqual([["1"]]);
    expect(queue.size).toBe(2);
  });
});

describe("what close() reports", () => {
  it("counts the events the queue could not keep as dropped, with the queue's reason", async () => {
    const { forwarder, drops } = build(scriptedSink(), new DurableQueue(100));
    await forwarder.stop(50);
    const result = forwarder.closeResult({ events: eventsOf(["a", "b"]), reason: "the spool could not keep them" });
    expect(result).toEqual({ delivered: 0, undelivered: 2, spooled: 0 });
    expect(drops).toEqual([{ events: ["a", "b"], reason: "the spool could not keep them" }]);
    expect(forwarder.stats().dropped).toBe(2);
  });

  it("a queue that kept everything: nothing is dropped, nothing is said", async () => {
    const { forwarder, drops, logger } = build(scriptedSink(), new DurableQueue(100));
    await forwarder.stop(50);
    expect(forwarder.closeResult({ events: [], reason: "nothing" })).toEqual({
      delivered: 0,
      undelivered: 0,
      spooled: 0,
    });
    expect(drops).toEqual([]);
    expect(logger.messages).toEqual([]);
  });

  it("resultNow(), when the queue did not close in time: what was dropped and what is still queued are undelivered", async () => {
    const sink = scriptedSink((batch) => (batch[0] === "bad" ? { ...REJECTED, splittable: false } : { ok: true }));
    const { forwarder } = build(sink, new MemoryQueue(100), { batchWaitMs: 60_000 });
    put(forwarder, ["bad"]);
    await forwarder.flush();
    expect(forwarder.stats().dropped).toBe(1);
    put(forwarder, ["2", "3"]);
    expect(forwarder.resultNow()).toEqual({ delivered: 0, undelivered: 3 });

    const durable = build(sink, new DurableQueue(100), { batchWaitMs: 60_000 }).forwarder;
    put(durable, ["bad"]);
    await durable.flush();
    put(durable, ["2", "3"]);
    expect(durable.resultNow()).toEqual({ delivered: 0, undelivered: 3, spooled: 2 });
  });
});
