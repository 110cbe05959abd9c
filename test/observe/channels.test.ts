import { subscribe, tracingChannel, unsubscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CHANNELS,
  type DropMessage,
  type LeaseMessage,
  type OverflowMessage,
  type RetryMessage,
  type SendContext,
} from "../../src/diagnostics.js";
import { EventQueueFullError } from "../../src/index.js";
import { startForwarder, startStore } from "../helpers/lifecycle.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { unreachableUrl } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

const undo: (() => void)[] = [];
afterEach(() => undo.splice(0).forEach((u) => u()));

/** Subscribes for real to a channel; the messages it receives, copied at the time (the send context changes as the request goes). */
function record<T>(name: string): T[] {
  const seen: T[] = [];
  const fn = (message: unknown) => seen.push({ ...(message as T) });
  subscribe(name, fn);
  undo.push(() => unsubscribe(name, fn));
  return seen;
}

const tempDir = useTempDirs();

describe("diagnostics channels", () => {
  it("traces each request to the store: start with store, events, bytes and attempt; asyncEnd with the outcome", async () => {
    const store = await startStore();
    const starts = record<SendContext>(`tracing:${CHANNELS.send}:start`);
    const ends = record<SendContext>(`tracing:${CHANNELS.send}:asyncEnd`);
    const events = startForwarder(store.url(), { batchLimit: 10 });
    for (let n = 0; n < 3; n++) events.put({ event: "e", properties: { n } });
    const flushedAt = performance.now();
    await events.flush();
    const flushMs = performance.now() - flushedAt;
    expect(starts).toHaveLength(1);
    const bytes = store.requests[0]!.rows.reduce((sum, row) => sum + Buffer.byteLength(JSON.stringify(row)), 0);
    expect(starts[0]).toMatchObject({
      store: expect.stringContaining(`127.0.0.1:${store.port}/data/-/create`),
      events: 3,
      bytes,
      attempt: 1,
    });
    expect(starts[0]!.outcome).toBeUndefined();
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ events: 3, attempt: 1, outcome: "sent", result: { ok: true } });
    // The request's own time: more than nothing, no more than the flush that waited for it.
    expect(ends[0]!.durationMs).toBeGreaterThan(0);
    expect(ends[0]!.durationMs).toBeLessThanOrEqual(flushMs);
    expect(ends[0]!.forwarder).toBe(starts[0]!.forwarder);
    expect(ends[0]!.forwarder.name).toBe("events");
  });

  it("publishes a retry after a failed request, and the next attempt's number", async () => {
    const store = await startStore((_req, index) =>
      index === 0 ? { status: 500, body: '{"ok":false,"errors":["try later"]}' } : { accept: true },
    );
    const retries = record<RetryMessage>(CHANNELS.retry);
    const ends = record<SendContext>(`tracing:${CHANNELS.send}:asyncEnd`);
    const events = startForwarder(store.url());
    events.put({ event: "e" });
    await events.flush();
    expect(ends.map((c) => [c.attempt, c.outcome, c.status])).toEqual([
      [1, "failed", 500],
      [2, "sent", undefined],
    ]);
    expect(ends[0]!.reason).toContain("try later");
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, status: 500, reason: expect.stringContaining("HTTP 500") });
    expect(retries[0]!.delayMs).toBeGreaterThan(0);
  });

  it("publishes drops with their count and reason, and overflows", async () => {
    const store = await startStore(() => ({ status: 409, body: '{"ok":false,"errors":["Conflict"]}' }));
    const drops = record<DropMessage>(CHANNELS.drop);
    const events = startForwarder(store.url());
    events.put({ event: "a" });
    events.put({ event: "b" });
    await events.flush();
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ events: 2, reason: expect.stringContaining("HTTP 409: Conflict") });

    const overflows = record<OverflowMessage>(CHANNELS.overflow);
    const full = startForwarder(await unreachableUrl(), { maxQueueSize: 1, timePeriod: 3600 });
    full.put({ event: "kept" });
    expect(() => full.put({ event: "refused" })).toThrow(EventQueueFullError);
    expect(overflows).toHaveLength(1);
    expect(overflows[0]!.reason).toContain("event queue is full");
    expect(overflows[0]!.forwarder).not.toBe(drops[0]!.forwarder);
  });

  it("publishes lease changes: taken when the spool makes this process the publisher, given up at close", async () => {
    const store = await startStore();
    const leases = record<LeaseMessage>(CHANNELS.lease);
    const path = join(tempDir(), "spool.db");
    const events = startForwarder(store.url(), { spool: { path, pollMs: 10 } });
    await waitFor(() => leases.length === 1, { what: "the lease taken" });
    expect(leases[0]).toEqual({
      spool: path,
      holder: expect.stringMatching(new RegExp(`:${process.pid}:`)),
      held: true,
    });
    await events.close({ timeoutMs: 200 });
    expect(leases.map((l) => l.held)).toEqual([true, false]);
  });

  it("has no subscriber of its own: an app's subscription is the only one, and after it goes, nothing listens", async () => {
    const send = tracingChannel(CHANNELS.send);
    const store = await startStore();
    const events = startForwarder(store.url());
    events.put({ event: "e" });
    await events.flush();
    expect(send.hasSubscribers).toBe(false);
    record(`tracing:${CHANNELS.send}:asyncEnd`);
    expect(send.hasSubscribers).toBe(true);
    undo.splice(0).forEach((u) => u());
    expect(send.hasSubscribers).toBe(false);
  });
});
