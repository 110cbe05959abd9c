// What the forwarder reports goes to each observer it was given, and its own counters (stats())
// count each report the way stats() promises.
import { describe, expect, it } from "vitest";
import { combineObservers, Counters, type ForwarderObserver } from "../../src/pipeline/observer.js";

/** An observer with every method, recording each call as [name, ...arguments]. */
function recording(calls: unknown[][]): ForwarderObserver {
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      void calls.push([name, ...args]);
  return {
    onRequestStart: record("onRequestStart"),
    onRequest: record("onRequest"),
    onSent: record("onSent"),
    onDrop: record("onDrop"),
    onOverflow: record("onOverflow"),
    onRetry: record("onRetry"),
    onBacklog: record("onBacklog"),
    onTurnFailed: record("onTurnFailed"),
    onHolding: record("onHolding"),
  };
}

/** Every report once, with its arguments. */
function reportAll(observer: ForwarderObserver): void {
  observer.onRequestStart(3, true, 120);
  observer.onRequest({ ok: false, retry: true, reason: "HTTP 503" }, 12, 3);
  observer.onSent(2);
  observer.onDrop(1, "HTTP 400", 400);
  observer.onOverflow("queue full");
  observer.onRetry?.(1, 50, { status: 503, reason: "HTTP 503" });
  observer.onBacklog?.("high", 60, 100);
  observer.onTurnFailed?.(2, "reading the queue failed");
  observer.onHolding?.({ answer: "HTTP 401", reason: "HTTP 401: the token", since: 5 });
  observer.onHolding?.(undefined);
}

const EVERY_CALL = [
  ["onRequestStart", 3, true, 120],
  ["onRequest", { ok: false, retry: true, reason: "HTTP 503" }, 12, 3],
  ["onSent", 2],
  ["onDrop", 1, "HTTP 400", 400],
  ["onOverflow", "queue full"],
  ["onRetry", 1, 50, { status: 503, reason: "HTTP 503" }],
  ["onBacklog", "high", 60, 100],
  ["onTurnFailed", 2, "reading the queue failed"],
  ["onHolding", { answer: "HTTP 401", reason: "HTTP 401: the token", since: 5 }],
  ["onHolding", undefined],
];

describe("combineObservers", () => {
  it("passes every report, with its arguments, to each observer in turn", () => {
    const first: unknown[][] = [];
    const second: unknown[][] = [];
    reportAll(combineObservers([recording(first), recording(second)]));
    expect(first).toEqual(EVERY_CALL);
    expect(second).toEqual(EVERY_CALL);
  });

  it("skips an observer that lacks an optional report", () => {
    const calls: unknown[][] = [];
    const counters = new Counters(); // has none of onRetry, onBacklog, onTurnFailed
    const both = combineObservers([counters, recording(calls)]);
    expect(() => reportAll(both)).not.toThrow();
    expect(calls).toEqual(EVERY_CALL);
    expect(counters).toMatchObject({ requests: 1, sent: 2, dropped: 1 });
  });

  it("gives a single observer back as it is: nothing between the forwarder and its counters", () => {
    const counters = new Counters();
    expect(combineObservers([counters])).toBe(counters);
  });
});

describe("Counters: the numbers stats() reports", () => {
  it("counts requests, and retried ones among them", () => {
    const counters = new Counters();
    counters.onRequestStart(10, false);
    counters.onRequestStart(10, true);
    counters.onRequestStart(4, false);
    expect(counters).toMatchObject({ requests: 3, retried: 1 });
  });

  it("counts failed requests, not the ones that succeeded", () => {
    const counters = new Counters();
    counters.onRequest({ ok: true });
    counters.onRequest({ ok: false, retry: true, reason: "HTTP 503" });
    counters.onRequest({ ok: true });
    expect(counters.failedRequests).toBe(1);
  });

  it("adds up events sent and dropped, and counts refused put()s", () => {
    const counters = new Counters();
    counters.onSent(3);
    counters.onSent(4);
    counters.onDrop(2);
    counters.onDrop(1);
    counters.onOverflow();
    counters.onOverflow();
    expect(counters).toMatchObject({ sent: 7, dropped: 3, overflowed: 2 });
  });

  it("keeps the holding state until it ends", () => {
    const counters = new Counters();
    const holding = { answer: "HTTP 401", reason: "HTTP 401", since: 1 };
    counters.onHolding(holding);
    expect(counters.holding).toBe(holding);
    counters.onHolding(undefined);
    expect(counters.holding).toBeUndefined();
  });
});
