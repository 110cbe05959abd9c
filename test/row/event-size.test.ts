// maxEventSize counts UTF-8 bytes on every path, not only the Datasette row's fast path: a
// multi-byte event one byte over the limit is refused, one at the limit is taken.
import { afterEach, describe, expect, it } from "vitest";
import { EventTooLargeError, eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { unreachableUrl } from "../helpers/test-store.js";

const opened: EventsForward[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((events) => events.close({ timeoutMs: 100 })));
});

function start(options: EventsForwardOptions): EventsForward {
  const events = eventsForward({ logger: false, requestEvents: false, ...options });
  opened.push(events);
  return events;
}

function refusal(events: EventsForward, event: unknown): unknown {
  try {
    events.put(event as never);
  } catch (error) {
    return error;
  }
  return undefined;
}

/** "é" is one UTF-16 unit and two UTF-8 bytes: counting units would see half the size. */
const WIDE = "é".repeat(400);

describe("maxEventSize in UTF-8 bytes", () => {
  it("with the collector's v2 serializer", async () => {
    const event = { 1: { str: WIDE } };
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(bytes).toBeGreaterThan(JSON.stringify(event).length + 300);
    const collector = {
      hostname: new URL(await unreachableUrl()).host,
      scheme: "http" as const,
      version: 2 as const,
      keyName: "K",
      keySecret: "c2VjcmV0",
    };
    const atLimit = start({ collector, maxEventSize: bytes });
    expect(refusal(atLimit, event)).toBeUndefined();
    expect(atLimit.stats().queued).toBe(1);

    const overLimit = start({ collector, maxEventSize: bytes - 1 });
    const error = refusal(overLimit, event);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).size).toBe(bytes);
    expect(overLimit.stats().queued).toBe(0);
  });

  it("with a custom serializer", async () => {
    const apiUrl = await unreachableUrl();
    const serializer = () => JSON.stringify({ text: WIDE });
    const bytes = Buffer.byteLength(serializer());
    const atLimit = start({ apiUrl, serializer, maxEventSize: bytes });
    expect(refusal(atLimit, { event: "wide" })).toBeUndefined();
    expect(atLimit.stats().queued).toBe(1);

    const overLimit = start({ apiUrl, serializer, maxEventSize: bytes - 1 });
    const error = refusal(overLimit, { event: "wide" });
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).size).toBe(bytes);
  });
});
