// Text that came from outside this process's own row code (read back from a spool, made by a
// serializer) is checked before it joins a body: a refused event is dropped where it stands, with
// the check's reason, and the runs between refused events go out in order. On a forwarder built
// by hand with the store kind's check given as a function, and a custom sink.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Forwarder } from "../../src/pipeline/forwarder.js";
import { MemoryQueue } from "../../src/pipeline/memory-queue.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import { RateLimiter } from "../../src/pipeline/rate-limit.js";
import type { Sink } from "../../src/pipeline/sink.js";
import { SqliteDeadLetters } from "../../src/spool/sqlite/dead-letters.js";
import type { DeadLetterSink } from "../../src/spool/dead-letters.js";
import { forwarderSettings } from "../helpers/fast-options.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { eventsOf, scriptedSink, untilStopped } from "../helpers/scripted-sink.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();

/** The check: an event whose text starts with "bad" is not a row. */
const check = (json: string) => (json.startsWith("bad") ? `not a row: ${json}` : undefined);

class DurableQueue extends MemoryQueue {
  override readonly durable = true;
}

function build(sink: Sink, queue = new MemoryQueue(100), deadLetters?: DeadLetterSink) {
  const drops: Array<{ events: string[]; reason: string }> = [];
  const settings = {
    ...forwarderSettings(10),
    onDrop: (events: string[], reason: string) => drops.push({ events, reason }),
  };
  const forwarder = new Forwarder({ settings, sink, queue, rateLimit: new RateLimiter(100, 0), check, deadLetters });
  onCleanup(() => forwarder.stop(50));
  return { forwarder, drops };
}

describe("the row check", () => {
  it("drops each refused event where it stands, with the check's reason, and sends the runs between them in order", async () => {
    const sink = scriptedSink();
    const { forwarder, drops } = build(sink);
    eventsOf(["a", "bad-1", "b", "c", "bad-2", "bad-3", "d"]).forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    expect(sink.batches).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(drops).toEqual([
      { events: ["bad-1"], reason: "not a row: bad-1" },
      { events: ["bad-2"], reason: "not a row: bad-2" },
      { events: ["bad-3"], reason: "not a row: bad-3" },
    ]);
    expect(forwarder.stats()).toMatchObject({ sent: 4, dropped: 3, queued: 0 });
  });

  it("a refused event is kept as a dead letter with the check's reason", async () => {
    const deadLetters = new SqliteDeadLetters(join(tempDir(), "dead.db"), 10, recordingLogger());
    onCleanup(() => deadLetters.close());
    const { forwarder } = build(scriptedSink(), new MemoryQueue(100), deadLetters);
    eventsOf(["a", "bad-1"]).forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    await waitFor(async () => (await deadLetters.list()).length === 1, { what: "the dead letter" });
    expect(await deadLetters.list()).toEqual([
      expect.objectContaining({ json: "bad-1", answer: "not a row: bad-1", status: null, attempts: 1 }),
    ]);
  });

  it("a batch that passes whole goes as one request; an event this process made itself is not checked", async () => {
    const sink = scriptedSink();
    const { forwarder, drops } = build(sink);
    const own: QueuedEvent = { json: "bad-looking but made here", bytes: 10, writeTo: (_into, at) => at };
    [...eventsOf(["a", "b"]), own].forEach((event) => forwarder.enqueue(event));
    await forwarder.flush();
    expect(sink.batches).toEqual([["a", "b", "bad-looking but made here"]]);
    expect(drops).toEqual([]);
  });

  it("a run cut short by close() ends the batch: a durable queue keeps the run, the refused event and what follows", async () => {
    const sink = scriptedSink((_batch, signal) => untilStopped(signal));
    const queue = new DurableQueue(100);
    const { forwarder, drops } = build(sink, queue);
    eventsOf(["a", "bad-1", "b"]).forEach((event) => forwarder.enqueue(event));
    await waitFor(() => sink.batches.length === 1, { what: "the first run in flight" });
    await forwarder.stop(50);
    expect(drops).toEqual([]);
    expect(sink.batches).toEqual([["a"]]);
    expect((await queue.take(10, 1e6)).map((event) => event.json)).toEqual(["a", "bad-1", "b"]);
  });

  it("a refused event after a run cut short is dropped by a memory queue with the rest of the batch, once", async () => {
    const sink = scriptedSink((_batch, signal) => untilStopped(signal));
    const { forwarder, drops } = build(sink);
    eventsOf(["a", "bad-1", "b"]).forEach((event) => forwarder.enqueue(event));
    await waitFor(() => sink.batches.length === 1, { what: "the first run in flight" });
    await forwarder.stop(50);
    expect(drops.flatMap((drop) => drop.events)).toEqual(["a", "bad-1", "b"]);
    expect(forwarder.stats()).toMatchObject({ sent: 0, dropped: 3, queued: 0 });
  });
});
