import { describe, expect, test } from "vitest";
import { logged, names, useLoopbackStore } from "../helpers/forward-to.js";
import type { Row } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";

const t = useLoopbackStore();

/** Rejects the whole request, as Datasette does, when any row is "poison", naming each bad row. */
function rejectPoison(status: number) {
  return ({ rows }: { rows: Row[] }) => {
    const errors = rows.flatMap((row, i) =>
      row.event.startsWith("poison") ? [`Row ${i} has invalid columns: bogus`] : [],
    );
    if (errors.length === 0) return { accept: true as const };
    return { status, body: JSON.stringify({ ok: false, errors, status }) };
  };
}

describe.each([400, 413, 422])("a batch rejected with %i", (status) => {
  test("is split until each bad event stands alone; the good ones are delivered once", async () => {
    t.store.behave = rejectPoison(status);
    const h = t.forward({ batchLimit: 10 });
    const list = names("good", 10);
    list[3] = "poison-a";
    list[7] = "poison-b";
    for (const event of list) t.h.events.put({ event });
    await h.events.flush();

    const good = list.filter((e) => !e.startsWith("poison"));
    // Halving may deliver a later half first (both halves are tried to tell a batch's answer from its events').
    expect(t.store.events().sort()).toEqual(good.sort());
    expect([...t.store.writes.values()].every((n) => n === 1)).toBe(true);
    // Each bad event is dead-lettered alone, with the store's own words.
    expect(h.drops.map((d) => d.events.length)).toEqual([1, 1]);
    expect(h.droppedNames()).toEqual(["poison-a", "poison-b"]);
    for (const drop of h.drops)
      expect(drop.reason).toBe(`Datasette answered HTTP ${status}: Row 0 has invalid columns: bogus`);
    expect(h.events.stats()).toMatchObject({ sent: 8, dropped: 2 });
    // Halving costs at most 2n - 1 requests: never retried forever.
    expect(t.store.requests.length).toBeLessThanOrEqual(19);
    expect(logged(h, /dropped 1 event\(s\)/, "error")).toHaveLength(2);
  });
});

test("a batch where every event is bad ends with every event dropped, each with a reason", async () => {
  t.store.behave = rejectPoison(400);
  const h = t.forward({ batchLimit: 8 });
  const list = names("poison", 8);
  for (const event of list) t.h.events.put({ event });
  await h.events.flush();
  expect(t.store.table.size).toBe(0);
  expect(h.droppedNames()).toEqual(list);
  expect(h.drops.every((d) => d.events.length === 1 && d.reason.includes("invalid columns"))).toBe(true);
  expect(t.store.requests).toHaveLength(15); // the full binary tree over 8 events: 8 + 4 + 2 + 1
});

test("a lone bad event costs one request: a 400 is never retried", async () => {
  t.store.behave = rejectPoison(400);
  const h = t.forward({ maxAttempts: 5 });
  h.events.put({ event: "poison" });
  await h.events.flush();
  expect(t.store.requests).toHaveLength(1);
  expect(h.droppedNames()).toEqual(["poison"]);
});

test("events after the poison batch are not held up by it", async () => {
  t.store.behave = rejectPoison(400);
  const h = t.forward({ batchLimit: 4 });
  const list = ["a", "poison", "b", "c", "d", "e", "f"];
  for (const event of list) t.h.events.put({ event });
  await h.events.flush();
  // [a, poison] gets the batch's very answer ("Row 1"), so [b, c] is tried before it is halved.
  expect(t.store.events()).toEqual(["b", "c", "a", "d", "e", "f"]);
  expect(h.droppedNames()).toEqual(["poison"]);
});

test("onDrop that throws is logged and does not stop delivery", async () => {
  t.store.behave = rejectPoison(400);
  const h = t.forward({
    onDrop: () => {
      throw new Error("dead-letter store is down");
    },
  });
  for (const event of ["poison", "a"]) h.events.put({ event });
  await h.events.flush();
  expect(t.store.events()).toEqual(["a"]);
  expect(logged(h, /onDrop threw: dead-letter store is down/, "error")).toHaveLength(1);
});

describe("a 400 and Datasette's row limit (max_insert_rows)", () => {
  test("a 400 that names no row limit still halves the batch: no cut to a limit, no warning", async () => {
    t.store.behave = rejectPoison(400);
    const h = t.forward({ batchLimit: 8 });
    const list = names("good", 8);
    list[3] = "poison";
    for (const event of list) t.h.events.put({ event });
    await h.events.flush();
    // The first half got the batch's very answer ("Row 3"), so the second is tried before it halves.
    expect(t.store.requests.map((r) => r.rows.length)).toEqual([8, 4, 4, 2, 2, 1, 1]);
    expect(t.store.events().sort()).toEqual(list.filter((e) => e !== "poison").sort());
    expect(h.droppedNames()).toEqual(["poison"]);
    expect(logged(h, /max_insert_rows/)).toEqual([]);
  });

  test("after a cut to the limit, a chunk with a bad event is still halved, and later batches keep to the limit", async () => {
    const tooMany = JSON.stringify({ ok: false, errors: ["Too many rows, maximum allowed is 3"], status: 400 });
    t.store.behave = (seen) => (seen.rows.length > 3 ? { status: 400, body: tooMany } : rejectPoison(400)(seen));
    const h = t.forward({ batchLimit: 8 });
    const list = names("good", 8);
    list[4] = "poison";
    for (const event of list) t.h.events.put({ event });
    await h.events.flush();
    for (const event of names("later", 5)) h.events.put({ event });
    await h.events.flush();
    // 8 refused, cut into 3 + 3 + 2; the chunk holding the poison halves to isolate it; then 3 + 2.
    expect(t.store.requests.map((r) => r.rows.length)).toEqual([8, 3, 3, 2, 1, 1, 1, 2, 3, 2]);
    expect(t.store.events().slice(0, 7).sort()).toEqual(list.filter((e) => e !== "poison").sort());
    expect(t.store.events().slice(7)).toEqual(names("later", 5));
    expect(h.droppedNames()).toEqual(["poison"]);
    expect(logged(h, /accepts at most 3 rows per write \(its max_insert_rows setting\)/, "warn")).toHaveLength(1);
  });
});

describe("a 400 about the whole batch (a proxy's own, a table with another primary key)", () => {
  test("stops halving when both halves get the batch's answer, and holds the batch instead of dropping it", async () => {
    let open = false;
    const proxy400 = { status: 400, body: "<html>400 Bad Request (nginx)</html>" };
    t.store.behave = () => (open ? { accept: true } : proxy400);
    const h = t.forward({ batchLimit: 8 });
    const list = names("e", 8);
    for (const event of list) t.h.events.put({ event });
    const flushed = h.events.flush();
    await waitFor(() => t.store.requests.length >= 5, { what: "the halves, then the held batch" });
    // The batch, its two halves, then the whole batch again: never quarters, never single events.
    expect(t.store.requests.slice(0, 5).map((r) => r.rows.length)).toEqual([8, 4, 4, 8, 8]);
    expect(h.events.stats()).toMatchObject({ holding: "HTTP 400", dropped: 0 });
    expect(logged(h, /both halves of a batch of 8 got the same answer/, "warn")).toHaveLength(1);
    open = true;
    await flushed;
    expect(t.store.events()).toEqual(list);
    expect(h.drops).toEqual([]);
  });
});
