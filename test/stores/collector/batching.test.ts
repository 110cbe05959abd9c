import { describe, expect, it } from "vitest";
import { waitFor } from "../../helpers/wait.js";
import { useCollector } from "./collector-server.js";

// Batches are cut by count, by bytes and by age; a long batchWaitMs shows that a batch full by
// count or bytes goes at once, without flush().
const LONG_WAIT_MS = 60_000;

const t = useCollector({ collector: { version: "2j" } });

/** A 2j event of exactly `bytes` bytes, numbered. */
function sized(i: number, bytes: number): string {
  const head = `{"i":${i},"pad":"`;
  return `${head}${"x".repeat(bytes - head.length - 2)}"}`;
}

const eventsIn = (text: string) => (JSON.parse(text) as { i: number }[]).map((e) => e.i);

describe("collector batching", () => {
  it("cuts batches by count: a full batch goes without waiting", async () => {
    const events = t.start({ batchLimit: 3, batchWaitMs: LONG_WAIT_MS });
    for (let i = 0; i < 7; i++) events.put(sized(i, 40));
    await waitFor(() => t.collector.requests.length >= 2, { what: "two full batches", timeoutMs: 5_000 });
    expect(t.collector.requests.map((r) => eventsIn(r.text))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    // The seventh waits for more events (or its age); the first six are acknowledged.
    await waitFor(() => events.stats().sent === 6, { what: "the two batches to be acknowledged", timeoutMs: 5_000 });
    expect(events.stats().queued).toBe(1);
    await events.flush();
    expect(eventsIn(t.collector.requests[2]!.text)).toEqual([6]);
  });

  it("cuts batches by bytes: the framed body never exceeds maxBatchBytes, and a full one goes at once", async () => {
    // Four 250-byte events fit 1000 bytes, but not with the brackets and commas: three per batch.
    const events = t.start({ maxBatchBytes: 1_000, batchWaitMs: LONG_WAIT_MS });
    for (let i = 0; i < 10; i++) events.put(sized(i, 250));
    await waitFor(() => t.collector.requests.length >= 1, { what: "a batch full by bytes", timeoutMs: 5_000 });
    await events.flush();
    const batches = t.collector.requests.map((r) => eventsIn(r.text));
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    for (const request of t.collector.requests) expect(Buffer.byteLength(request.text)).toBeLessThanOrEqual(1_000);
    expect(Buffer.byteLength(t.collector.requests[0]!.text)).toBe(3 * 250 + 2 + 2);
  });

  it("cuts v2 batches by bytes counting the list wrapper", async () => {
    const wrapper = '{"1":{"lst":["rec",3,]}}'.length;
    // Three events are 752 bytes with their commas: they fit the limit only without the wrapper.
    const maxBatchBytes = 3 * 250 + 2 + wrapper - 1;
    const forwarder = t.start({ collector: { version: 2 }, maxBatchBytes });
    for (let i = 0; i < 4; i++) forwarder.put(sized(i, 250));
    await forwarder.flush();
    expect(t.collector.requests.map((r) => Buffer.byteLength(r.text))).toEqual([
      2 * 250 + 1 + wrapper,
      2 * 250 + 1 + wrapper,
    ]);
    expect(t.collector.requests[0]!.text.startsWith('{"1":{"lst":["rec",2,{"i":0,')).toBe(true);
  });

  it("keeps a v2 body of exactly maxBatchBytes whole", async () => {
    const wrapper = '{"1":{"lst":["rec",3,]}}'.length;
    const maxBatchBytes = 3 * 250 + 2 + wrapper;
    const forwarder = t.start({ collector: { version: 2 }, maxBatchBytes });
    for (let i = 0; i < 4; i++) forwarder.put(sized(i, 250));
    await forwarder.flush();
    expect(t.collector.requests.map((r) => Buffer.byteLength(r.text))).toEqual([maxBatchBytes, 250 + wrapper]);
  });

  it("sends an event alone when the v2 wrapper alone takes its body past maxBatchBytes", async () => {
    const forwarder = t.start({ collector: { version: 2 }, maxBatchBytes: 260 });
    forwarder.put(sized(0, 250));
    forwarder.put(sized(1, 250));
    await forwarder.flush();
    expect(t.collector.requests.map((r) => JSON.parse(r.text) as unknown)).toEqual(
      [0, 1].map((i) => ({ "1": { lst: ["rec", 1, JSON.parse(sized(i, 250))] } })),
    );
    expect(forwarder.stats()).toMatchObject({ sent: 2, dropped: 0 });
  });

  it("sends a batch that is not full once its oldest event is batchWaitMs old", async () => {
    const waitMs = 300;
    const events = t.start({ batchWaitMs: waitMs });
    const putAt = Date.now();
    events.put(sized(0, 40));
    events.put(sized(1, 40));
    await waitFor(() => t.collector.requests.length >= 1, { what: "the batch to age out", timeoutMs: 5_000 });
    expect(eventsIn(t.collector.requests[0]!.text)).toEqual([0, 1]);
    // Timers may fire a millisecond early against Date.now(); the batch did wait for its age.
    expect(t.collector.requests[0]!.at - putAt).toBeGreaterThanOrEqual(waitMs - 2);
  });

  it("by default waits about a second for light traffic, then sends one batch", async () => {
    const events = t.start();
    const putAt = Date.now();
    for (let i = 0; i < 3; i++) events.put(sized(i, 40));
    await waitFor(() => t.collector.requests.length >= 1, { what: "the default batch age", timeoutMs: 5_000 });
    expect(t.collector.requests).toHaveLength(1);
    expect(eventsIn(t.collector.requests[0]!.text)).toEqual([0, 1, 2]);
    expect(t.collector.requests[0]!.at - putAt).toBeGreaterThanOrEqual(1_000 - 2);
  });
});
