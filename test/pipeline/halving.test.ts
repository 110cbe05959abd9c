// Which failed batches are halved to find the events behind the failure, on a forwarder built by
// hand with a custom sink: an answer about the content, a failure that outlasted its attempts, a
// store error; and which are dropped whole (an answer about the batch that halving cannot cure).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import type { SendResult } from "../../src/pipeline/sink.js";
import { forwarderSettings } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { eventsOf, REJECTED, scriptedSink } from "../helpers/scripted-sink.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();

/** Sends a, b and the poison event; the store answers `failure` to every batch that holds the poison. */
async function deliverWithPoison(failure: SendResult) {
  const sink = scriptedSink((batch) => (batch.includes("poison") ? failure : { ok: true }));
  const drops: string[][] = [];
  const settings = { ...forwarderSettings(10), onDrop: (events: string[]) => drops.push(events) };
  const forwarder = new Forwarder({ settings, sink, queue: new MemoryQueue(100), rateLimit: new RateLimiter(100, 0) });
  onCleanup(() => forwarder.stop(50));
  eventsOf(["a", "b", "poison"]).forEach((event) => forwarder.enqueue(event));
  await forwarder.flush();
  return { sink, drops, stats: forwarder.stats() };
}

describe("halving a failed batch", () => {
  it("a failure that outlasted its attempts (no answer from the store) may be the events': halved until the poison stands alone", async () => {
    const { drops, stats } = await deliverWithPoison({ ok: false, retry: true, reason: "timed out" });
    expect(drops).toEqual([["poison"]]);
    expect(stats).toMatchObject({ sent: 2, dropped: 1 });
  });

  it("a store error (5xx), even one not worth retrying, may be the events' too", async () => {
    const { drops, stats } = await deliverWithPoison({ ok: false, retry: false, status: 500, reason: "HTTP 500" });
    expect(drops).toEqual([["poison"]]);
    expect(stats).toMatchObject({ sent: 2, dropped: 1 });
  });

  it("a 400 about one event of two: the other is delivered, the bad one dropped alone", async () => {
    const { drops, stats } = await deliverWithPoison({ ...REJECTED, status: 400, reason: "HTTP 400: bad row" });
    expect(drops).toEqual([["poison"]]);
    expect(stats).toMatchObject({ sent: 2, dropped: 1 });
  });

  it("halves that fail differently are each dealt with alone: the batch is not held as if the answer were about it", async () => {
    const sink = scriptedSink((batch) =>
      batch.length === 2 || batch[0] === "bad-1"
        ? { ...REJECTED, status: 400, reason: "HTTP 400: bad rows" }
        : { ok: false, retry: false, status: 409, reason: "HTTP 409" },
    );
    const drops: string[][] = [];
    const settings = { ...forwarderSettings(10), onDrop: (events: string[]) => drops.push(events) };
    const forwarder = new Forwarder({
      settings,
      sink,
      queue: new MemoryQueue(100),
      rateLimit: new RateLimiter(100, 0),
    });
    onCleanup(() => forwarder.stop(50));
    eventsOf(["bad-1", "bad-2"]).forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    expect(drops).toEqual([["bad-1"], ["bad-2"]]);
  });

  it("a 422 on both halves is still about the events: both are halved on, not held as the batch's fault", async () => {
    const sink = scriptedSink(() => REJECTED);
    const drops: string[][] = [];
    const settings = { ...forwarderSettings(10), onDrop: (events: string[]) => drops.push(events) };
    const forwarder = new Forwarder({
      settings,
      sink,
      queue: new MemoryQueue(100),
      rateLimit: new RateLimiter(100, 0),
    });
    onCleanup(() => forwarder.stop(50));
    eventsOf(["bad-1", "bad-2"]).forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    expect(drops).toEqual([["bad-1"], ["bad-2"]]);
  });

  it("an answer about the batch that is neither (a 409, not about content): dropped whole, in one request", async () => {
    const { sink, drops, stats } = await deliverWithPoison({
      ok: false,
      retry: false,
      status: 409,
      reason: "HTTP 409",
    });
    expect(sink.batches).toEqual([["a", "b", "poison"]]);
    expect(drops).toEqual([["a", "b", "poison"]]);
    expect(stats).toMatchObject({ sent: 0, dropped: 3 });
  });

  it("the sink is told each batch's payload size: the sum of its events' bytes", async () => {
    const sizes: Array<number | undefined> = [];
    const sink = scriptedSink();
    const send = sink.send.bind(sink);
    sink.send = (events, signal, payloadBytes) => {
      sizes.push(payloadBytes);
      return send(events, signal, payloadBytes);
    };
    const forwarder = new Forwarder({
      settings: forwarderSettings(10),
      sink,
      queue: new MemoryQueue(100),
      rateLimit: new RateLimiter(100, 0),
    });
    onCleanup(() => forwarder.stop(50));
    [...eventsOf(["a", "b"], 7), ...eventsOf(["c"], 12)].forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    expect(sizes).toEqual([26]);
  });

  describe("a dropped event the dead letters cannot keep stops the batch there: nothing after it goes ahead of it", () => {
    async function deliverUnkept(tooMany?: SendResult) {
      const deadLetters = new SqliteDeadLetters(join(tempDir(), "no-such-directory", "dead.db"), 10, recordingLogger());
      const sink = scriptedSink((batch) =>
        tooMany !== undefined && batch.length > 2 ? tooMany : batch.includes("bad") ? REJECTED : { ok: true },
      );
      const forwarder = new Forwarder({
        settings: forwarderSettings(10),
        sink,
        queue: new MemoryQueue(100),
        rateLimit: new RateLimiter(100, 0),
        deadLetters,
      });
      onCleanup(() => forwarder.stop(50));
      eventsOf(["a", "bad", "c", "d"]).forEach((event) => forwarder.enqueue(event));
      await forwarder.flush();
      // As the flush left them (the next turn tries the unkept event again, after a backoff).
      return { sent: sink.batches.flat(), stats: forwarder.stats() };
    }

    it("in a halved batch", async () => {
      const { sent, stats } = await deliverUnkept();
      expect(sent.filter((json) => json === "c" || json === "d")).toEqual(["c", "d"]); // the first, whole batch
      expect(stats).toMatchObject({ sent: 1, dropped: 0, queued: 3 });
    });

    it("in a batch cut to the store's row limit", async () => {
      const tooMany: SendResult = {
        ok: false,
        retry: false,
        status: 400,
        maxRows: 2,
        reason: "HTTP 400: too many rows",
      };
      const { sent, stats } = await deliverUnkept(tooMany);
      expect(sent.filter((json) => json === "c" || json === "d")).toEqual(["c", "d"]);
      expect(stats).toMatchObject({ sent: 1, dropped: 0, queued: 3 });
    });
  });
});
