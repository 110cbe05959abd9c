// Fault injection against a controllable loopback store (test/helpers/test-store.ts). Each test
// says exactly what was delivered, what was dropped, and checks that nothing else was lost.
import { expect, test } from "vitest";
import { expectAccounted } from "../helpers/accounting.js";
import { logged, names, useLoopbackStore } from "../helpers/forward-to.js";
import type { Row } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

const t = useLoopbackStore();

function putAll(list: string[]): void {
  for (const event of list) t.h.events.put({ event });
}

const settled = (n: number) => () => t.h.events.stats().sent + t.h.events.stats().dropped >= n;

test("store down at start: events wait, then all arrive once the store is up", async () => {
  const port = t.store.port;
  await t.store.stop();
  const h = t.forward({ batchLimit: 3 });
  const list = names("e", 10);
  putAll(list);
  await waitFor(() => h.events.stats().failedRequests >= 3, { what: "refused connections" });
  expect(t.store.requests).toHaveLength(0);
  await t.store.start(port);
  await waitFor(settled(10), { what: "every event settled" });
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
});

test("store killed and restarted mid-stream: nothing lost, nothing doubled in the table", async () => {
  const port = t.store.port;
  const h = t.forward({ batchLimit: 2, maxAttempts: 3 });
  const list = names("e", 30);
  for (const [i, event] of list.entries()) {
    h.events.put({ event });
    if (i === 9) {
      await waitFor(() => t.store.table.size >= 4, { what: "a few deliveries" });
      await t.store.stop(); // cuts the connection of any request in flight
    }
    if (i === 19) await t.store.start(port);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await waitFor(settled(30), { what: "every event settled" });
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
});

test("slow store: timeouts are retried; a write whose answer came too late is not doubled", async () => {
  // Request 0 writes the rows but answers after the client gave up; request 2 never answers.
  t.store.behave = (_, i) =>
    i === 0 ? { accept: true, delayMs: 1_000 } : i === 2 ? { hangMs: 3_000 } : { accept: true };
  const h = t.forward({ batchLimit: 3, requestTimeoutMs: 300, maxAttempts: 3 });
  const list = names("e", 9);
  putAll(list);
  await waitFor(settled(9), { what: "every event settled" });
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
  // The first batch crossed the wire twice; the table (ids + ignore) kept one copy.
  expect(t.store.writes.get(t.store.requests[0]!.rows[0]!.id)).toBe(2);
  expect(h.events.stats().failedRequests).toBe(2);
});

test("500s: a short run is ridden out; a run longer than maxAttempts halves that batch, whose halves get through", async () => {
  // Requests 1-2 fail (the second batch gets through on its third attempt); requests 4-6 fail
  // (the third batch uses its three attempts and is halved: each half goes); everything else succeeds.
  t.store.behave = (_, i) => ([1, 2, 4, 5, 6].includes(i) ? { status: 500 } : { accept: true });
  const h = t.forward({ batchLimit: 2, maxAttempts: 3 });
  const list = names("e", 8);
  putAll(list);
  await h.events.flush();
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
  expect(t.store.requests.map((r) => r.rows.length)).toEqual([2, 2, 2, 2, 2, 2, 2, 1, 1, 2]);
});

test("429 with Retry-After: the store's pause is kept and nothing is dropped", async () => {
  t.store.behave = (_, i) => (i === 1 ? { status: 429, headers: { "retry-after": "1" } } : { accept: true });
  const h = t.forward({ batchLimit: 2, maxAttempts: 1 });
  const list = names("e", 6);
  putAll(list);
  await h.events.flush();
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
  expect(t.store.requests[2]!.at - t.store.requests[1]!.at).toBeGreaterThanOrEqual(990);
});

test("connection reset mid-response: the batch is sent again and lands once", async () => {
  t.store.behave = (_, i) =>
    i === 0 ? { resetAfterWrite: true } : i === 1 ? { resetBeforeWrite: true } : { accept: true };
  const h = t.forward({ batchLimit: 5, maxAttempts: 3 });
  const list = names("e", 5);
  putAll(list);
  await h.events.flush();
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
  expect(t.store.requests).toHaveLength(3);
  expect([...t.store.writes.values()]).toEqual([2, 2, 2, 2, 2]); // on the wire twice, in the table once
  expect(logged(h, /network error/, "warn")).toHaveLength(1);
});

test("resets on every attempt: the batch is halved and each half sent again; every row written once", async () => {
  t.store.behave = (_, i) => (i < 3 ? { resetAfterWrite: true } : { accept: true });
  const h = t.forward({ batchLimit: 2, maxAttempts: 3 });
  const list = names("e", 4);
  putAll(list);
  await h.events.flush();
  expectAccounted(h, t.store, list, { delivered: list, dropped: [] });
  expect([...t.store.writes.values()]).toEqual([4, 4, 1, 1]); // on the wire 4 times, in the table once
});

test("one poison row in a batch: the rest is delivered, the poison is dropped with the store's message", async () => {
  t.store.behave = ({ rows }: { rows: Row[] }) => {
    const bad = rows.findIndex((row) => row.event === "poison");
    return bad === -1
      ? { accept: true }
      : { status: 400, body: JSON.stringify({ ok: false, errors: [`Row ${bad} has invalid columns: bogus`] }) };
  };
  const h = t.forward({ batchLimit: 10 });
  const list = [...names("a", 4), "poison", ...names("b", 5)];
  putAll(list);
  await h.events.flush();
  // The first half [a-0..a-3, poison] gets the batch's very answer ("Row 4"): the second half is
  // tried (and delivered) before the first is halved, so the b's arrive first.
  expectAccounted(h, t.store, list, { delivered: [...names("b", 5), ...names("a", 4)], dropped: ["poison"] });
  expect(h.drops[0]!.reason).toBe("Datasette answered HTTP 400: Row 0 has invalid columns: bogus");
});

test("close() at a deadline with the store down: what is left goes to onDrop, counted as undelivered", async () => {
  const port = t.store.port;
  await t.store.stop();
  const h = t.forward({ batchLimit: 2 });
  const list = names("e", 5);
  putAll(list);
  const result = await h.events.close({ timeoutMs: 100 });
  expect(result).toEqual({ delivered: 0, undelivered: 5 });
  await t.store.start(port);
  expectAccounted(h, t.store, list, { delivered: [], dropped: list });
  expect(h.drops.every((d) => d.reason.includes("closed before they were delivered"))).toBe(true);
});
