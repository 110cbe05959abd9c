import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, test } from "vitest";
import { EventTooLargeError, eventsForward, type EventsForward } from "../../src/index.js";
import { useLoopbackStore } from "../helpers/forward-to.js";

// A full collection before each heap reading: what is left is what the caches keep.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;
const t = useLoopbackStore();
const LONG = 50_000;

function forwarder(): EventsForward {
  // Nothing is sent: the store is unreachable and the rate limit holds the first batch a day.
  return eventsForward({
    apiUrl: "http://127.0.0.1:9/data/-/create",
    logger: false,
    requestEvents: false,
    maxEventSize: 10_000,
    maxQueueSize: 10,
    maxRate: 1,
    timePeriod: 86_400,
  });
}

/** A new plain name of `length` characters, different from every other one. */
function name(i: number, length = LONG): string {
  return `k${i}_`.padEnd(length, "x");
}

describe("put()'s caches of names (issue 28, item 1)", () => {
  test("refused events with new long property names leave the heap as it was", async () => {
    const events = forwarder();
    const before = heapUsed();
    for (let i = 0; i < 1_000; i++) {
      expect(() => events.put({ event: "search", properties: { [name(i)]: "1" } })).toThrow(EventTooLargeError);
    }
    // 1,000 names of 50,000 characters: 50 MB if any cache kept them.
    expect(heapUsed() - before).toBeLessThan(5 * MB);
    await events.close({ timeoutMs: 0 });
  });

  test("refused events with new long event names leave the heap as it was", async () => {
    const events = forwarder();
    const before = heapUsed();
    for (let i = 0; i < 1_000; i++) {
      expect(() => events.put({ event: name(i), properties: {} })).toThrow(EventTooLargeError);
    }
    expect(heapUsed() - before).toBeLessThan(5 * MB);
    await events.close({ timeoutMs: 0 });
  });

  test("accepted events with many new names keep the caches within their bytes", async () => {
    const { events } = t.forward({ maxEventSize: 10_000 });
    const forget = () => {
      // The test store keeps what it was sent: only the forwarder's memory is measured.
      t.store.requests.length = 0;
      t.store.table.clear();
      t.store.writes.clear();
    };
    await events.flush();
    forget();
    const before = heapUsed();
    // Accepted (2,000-character names fit maxEventSize) and delivered: only the caches could keep the names.
    for (let i = 0; i < 5_000; i++) {
      events.put({ event: name(i, 2_000), properties: { [name(i, 2_000)]: 1 } });
      if (i % 100 === 99) {
        await events.flush();
        forget();
      }
    }
    await events.flush();
    forget();
    // 5,000 × 2 names × 2,000 characters: 20 MB (more as column text) if the caches kept them all.
    expect(heapUsed() - before).toBeLessThan(5 * MB);
    expect(events.stats().sent).toBe(5_000);
  });
});
