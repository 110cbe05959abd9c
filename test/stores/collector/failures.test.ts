import { inspect } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import type { CollectorEvent, EventsForward } from "../../../src/index.js";
import { FAST } from "../../helpers/fast-options.js";
import { recordingLogger } from "../../helpers/recording-logger.js";
import { waitFor } from "../../helpers/wait.js";
import { useCollector, type CollectorForwarderOptions, type Received } from "./collector-server.js";

// The original publisher's failure policy, with controlled failures of the test t.collector.
const t = useCollector({ ...FAST, collector: { version: "2j" } });
let logger: ReturnType<typeof recordingLogger>;
let logs: string[];
let drops: { events: string[]; reason: string; at: number }[];

beforeEach(() => {
  logger = recordingLogger();
  logs = logger.messages;
  drops = [];
});

/** A forwarder to this test's collector that records its log and its drops. */
function start(options: CollectorForwarderOptions = {}): EventsForward<CollectorEvent> {
  return t.start({ logger, onDrop: (events, reason) => drops.push({ events, reason, at: Date.now() }), ...options });
}

const ev = (name: string) => JSON.stringify({ name });
const namesIn = (request: Received) => (JSON.parse(request.text) as { name: string }[]).map((e) => e.name);
const delivered = () => t.collector.requests.filter((_, i) => answered[i] === 200).flatMap(namesIn);
let answered: number[] = [];

/** Answers with `status(request, index)` and remembers it, so tests know what was accepted. */
function answer(status: (request: Received, index: number) => number, headers?: Record<string, string>, body?: string) {
  answered = [];
  t.collector.respond = (request, index) => {
    const code = status(request, index);
    answered[index] = code;
    return { status: code, headers: code === 200 ? undefined : headers, body: code === 200 ? "" : body };
  };
}

describe("collector failure policy", () => {
  it("retries server errors with backoff until the collector takes the batch", async () => {
    answer((_, i) => (i < 2 ? 503 : 200));
    const events = start();
    for (const name of ["a", "b", "c"]) events.put(ev(name));
    await events.flush();
    expect(t.collector.requests.map(namesIn)).toEqual([
      ["a", "b", "c"],
      ["a", "b", "c"],
      ["a", "b", "c"],
    ]);
    expect(events.stats()).toMatchObject({ sent: 3, dropped: 0, retried: 2, requests: 3, failedRequests: 2 });
    expect(logs.some((l) => l.includes("HTTP 503") && l.includes("retrying"))).toBe(true);
  });

  it("retries every status from 500, 501 and 505 included, as baseplate's publisher", async () => {
    answer((_, i) => [501, 505, 500][i] ?? 200);
    const events = start();
    events.put(ev("x"));
    await events.flush();
    expect(t.collector.requests.map(namesIn)).toEqual([["x"], ["x"], ["x"], ["x"]]);
    expect(delivered()).toEqual(["x"]);
    expect(events.stats()).toMatchObject({ sent: 1, dropped: 0, retried: 3 });
  });

  it("retries I/O errors: a connection reset, then a request that times out", async () => {
    let n = 0;
    t.collector.respond = () => (n++ === 0 ? "reset" : n === 2 ? "hang" : { status: 200 });
    const events = start({ requestTimeoutMs: 300 });
    events.put(ev("x"));
    await events.flush();
    // A loaded machine may time out a third request too: what matters is the retries, then delivery.
    expect(t.collector.requests.length).toBeGreaterThanOrEqual(3);
    expect(t.collector.requests.every((r) => r.text === t.collector.requests[0]!.text)).toBe(true);
    expect(events.stats()).toMatchObject({ sent: 1, dropped: 0, retried: t.collector.requests.length - 1 });
  });

  it("waits for a 429's Retry-After before the retry", async () => {
    answer((_, i) => (i === 0 ? 429 : 200), { "retry-after": "1" });
    const events = start();
    events.put(ev("x"));
    await events.flush();
    expect(t.collector.requests).toHaveLength(2);
    // Backoff is at most 20 ms here: the second of pause is the collector's.
    expect(t.collector.requests[1]!.at - t.collector.requests[0]!.at).toBeGreaterThanOrEqual(1_000 - 5);
    expect(delivered()).toEqual(["x"]);
  });

  it("isolates the invalid events of a batch answered 422, delivers the rest, and reports each one skipped", async () => {
    answer((request) => (request.text.includes("poison") ? 422 : 200), undefined, "field 'name' is invalid");
    const events = start();
    for (const name of ["a", "b", "poison-1", "c", "d", "poison-2", "e"]) events.put(ev(name));
    await events.flush();
    expect(delivered().sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(drops.map((d) => d.events)).toEqual([[ev("poison-1")], [ev("poison-2")]]);
    for (const drop of drops) expect(drop.reason).toBe("collector answered HTTP 422: field 'name' is invalid");
    expect(events.stats()).toMatchObject({ sent: 5, dropped: 2 });
    expect(logs.filter((l) => l.startsWith("error: dropped 1 event(s)") && l.includes("HTTP 422"))).toHaveLength(2);
  });

  it("skips a single event answered 422 without retrying it, and goes on", async () => {
    answer((request) => (request.text.includes("poison") ? 422 : 200));
    const events = start();
    events.put(ev("poison"));
    await events.flush();
    events.put(ev("good"));
    await events.flush();
    expect(t.collector.requests.map(namesIn)).toEqual([["poison"], ["good"]]);
    expect(drops).toHaveLength(1);
    expect(events.stats()).toMatchObject({ sent: 1, dropped: 1, retried: 0 });
  });

  it("holds a batch answered 401 or 403 (a key it does not take) until the collector takes it", async () => {
    let takes = false;
    answer((_, i) => (takes ? 200 : i % 2 === 0 ? 403 : 401), undefined, "signature mismatch");
    const events = start({ maxAttempts: 1 });
    events.put(ev("a"));
    events.put(ev("b"));
    await waitFor(() => events.stats().failedRequests >= 4, { what: "four refused requests" });
    expect(events.stats()).toMatchObject({ dropped: 0, queued: 2 });
    takes = true;
    await events.flush();
    expect(drops).toEqual([]);
    expect(events.stats()).toMatchObject({ sent: 2, dropped: 0 });
  });

  it("does not retry other 4xx answers (409, say): the batch is dropped and reported", async () => {
    answer(() => 409, undefined, "conflict");
    const events = start();
    events.put(ev("a"));
    await events.flush();
    expect(t.collector.requests).toHaveLength(1);
    expect(drops).toEqual([
      { events: [ev("a")], reason: "collector answered HTTP 409: conflict", at: expect.any(Number) },
    ]);
    expect(events.stats()).toMatchObject({ sent: 0, dropped: 1, retried: 0 });
  });

  it("retries within the time budget, however many attempts that takes, then drops and reports", async () => {
    answer(() => 500);
    const budgetMs = 300;
    const events = start({ retryBudgetMs: budgetMs });
    events.put(ev("doomed"));
    await events.flush();
    expect(drops).toHaveLength(1);
    expect(drops[0]!.events).toEqual([ev("doomed")]);
    expect(drops[0]!.reason).toMatch(/HTTP 500.*retryBudgetMs/);
    // maxAttempts (default 3 for Datasette) does not cut the collector's retries short.
    expect(t.collector.requests.length).toBeGreaterThan(3);
    const first = t.collector.requests[0]!.at;
    const last = t.collector.requests.at(-1)!.at;
    // Retries went on for the whole budget (the last pause cut to what was left, as baseplate's
    // RetryPolicy): the batch is given up only once the budget is used up, not when the next pause
    // would not fit in it.
    expect(last - first).toBeGreaterThanOrEqual(budgetMs - 100);
    expect(drops[0]!.at - first).toBeGreaterThanOrEqual(budgetMs);
    expect(drops[0]!.at - first).toBeLessThan(budgetMs + 2_000);
    expect(events.stats()).toMatchObject({ sent: 0, dropped: 1 });
  });

  it("keeps the key out of logs, drop reasons, stats and errors", async () => {
    answer((_, i) => [500, 429, 403, 409][i % 4]!, { "retry-after": "0" }, "nope");
    const events = start({ retryBudgetMs: 200 });
    for (let i = 0; i < 5; i++) events.put(ev(`e${i}`));
    await events.flush();
    let thrown = "";
    try {
      events.put("{not json");
    } catch (error) {
      thrown = `${(error as Error).message} ${inspect(error)}`;
    }
    expect(thrown).toMatch(/EventError/);
    const hex = Buffer.from(t.secret, "base64").toString("hex");
    const seen = [
      ...logs,
      ...drops.map((d) => d.reason),
      JSON.stringify(events.stats()),
      thrown,
      ...t.collector.requests.map((r) => JSON.stringify(r.headers)),
    ].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    expect(seen).not.toContain(t.secret);
    expect(seen).not.toContain(hex);
  });
});
