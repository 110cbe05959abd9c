// Which failed batches are halved to find the events behind the failure, on a forwarder built by
// hand with a custom sink: an answer about the content, a failure that outlasted its attempts, a
// store error; and which are dropped whole (an answer about the batch that halving cannot cure).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import type { SendResult } from "../../src/pipeline/sink.js";
import { forwarderSettings } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { eventsOf, REJECTED, scriptedSink, type Script } from "../helpers/scripted-sink.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();

/**
 * Puts `events` into a forwarder built by hand whose store answers as `script` says, and flushes.
 * What the store was sent, what was dropped and the stats are as the flush left them (a later
 * turn may try an unkept event again, after a backoff).
 */
async function flushThrough(events: QueuedEvent[], script: Script, deadLetters?: SqliteDeadLetters) {
  const sink = scriptedSink(script);
  const drops: string[][] = [];
  const settings = { ...forwarderSettings(10), onDrop: (dropped: string[]) => drops.push(dropped) };
  const queue = new MemoryQueue(100);
  const forwarder = new Forwarder({ settings, sink, queue, rateLimit: new RateLimiter(100, 0), deadLetters });
  onCleanup(() => forwarder.stop(50));
  events.forEach((event) => forwarder.enqueue(event));
  await forwarder.flush();
  return { batches: sink.batches.map((batch) => [...batch]), drops, stats: forwarder.stats() };
}

/** Sends a, b and the poison event; the store answers `failure` to every batch that holds the poison. */
const deliverWithPoison = (failure: SendResult) =>
  flushThrough(eventsOf(["a", "b", "poison"]), (batch) => (batch.includes("poison") ? failure : { ok: true }));

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
    const { drops } = await flushThrough(eventsOf(["bad-1", "bad-2"]), (batch) =>
      batch.length === 2 || batch[0] === "bad-1"
        ? { ...REJECTED, status: 400, reason: "HTTP 400: bad rows" }
        : { ok: false, retry: false, status: 409, reason: "HTTP 409" },
    );
    expect(drops).toEqual([["bad-1"], ["bad-2"]]);
  });

  it("a 422 on both halves is still about the events: both are halved on, not held as the batch's fault", async () => {
    const { drops } = await flushThrough(eventsOf(["bad-1", "bad-2"]), () => REJECTED);
    expect(drops).toEqual([["bad-1"], ["bad-2"]]);
  });

  it("an answer about the batch that is neither (a 409, not about content): dropped whole, in one request", async () => {
    const { batches, drops, stats } = await deliverWithPoison({
      ok: false,
      retry: false,
      status: 409,
      reason: "HTTP 409",
    });
    expect(batches).toEqual([["a", "b", "poison"]]);
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
    function deliverUnkept(tooMany?: SendResult) {
      const deadLetters = new SqliteDeadLetters(join(tempDir(), "no-such-directory", "dead.db"), 10, recordingLogger());
      return flushThrough(
        eventsOf(["a", "bad", "c", "d"]),
        (batch) =>
          tooMany !== undefined && batch.length > 2 ? tooMany : batch.includes("bad") ? REJECTED : { ok: true },
        deadLetters,
      );
    }

    it("in a halved batch", async () => {
      const { batches, stats } = await deliverUnkept();
      expect(batches.flat().filter((json) => json === "c" || json === "d")).toEqual(["c", "d"]); // the first, whole batch
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
      const { batches, stats } = await deliverUnkept(tooMany);
      expect(batches.flat().filter((json) => json === "c" || json === "d")).toEqual(["c", "d"]);
      expect(stats).toMatchObject({ sent: 1, dropped: 0, queued: 3 });
    });
  });
});
