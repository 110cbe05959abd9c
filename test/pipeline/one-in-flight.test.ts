// One request in flight at a time is the forwarder's doing (its mutex), not the HTTP agent's: in
// this file the agent may open several connections, so two sends that overlap reach the store at
// once and its in-flight count sees them (with one connection, undici would queue the second).
import { describe, expect, test, vi } from "vitest";
import { names, useLoopbackStore } from "../helpers/forward-to.js";

vi.mock("undici", async (importOriginal) => {
  const undici = await importOriginal<typeof import("undici")>();
  class ManyConnections extends undici.Agent {
    constructor(options: ConstructorParameters<typeof undici.Agent>[0]) {
      super({ ...options, connections: 8 });
    }
  }
  return { ...undici, Agent: ManyConnections };
});

const t = useLoopbackStore();

describe("one request in flight", () => {
  test("the agent here does allow several at once (else the checks below could not fail)", async () => {
    const { chooseTransport } = await import("../../src/stores/transport.js");
    const transport = await chooseTransport();
    expect(transport.name).toBe("undici");
    t.store.behave = () => ({ accept: true, delayMs: 50 });
    const post = () =>
      transport.post({
        url: new URL(t.store.url("/data/-/create")),
        headers: {},
        body: JSON.stringify({ rows: [] }),
        signal: new AbortController().signal,
      });
    await post(); // a warm connection is busy with the first request, so the second opens another
    await Promise.all([post(), post()]);
    await transport.close();
    expect(t.store.maxInFlight).toBe(2);
  });

  test("flush() beside the background sends: one request at a time, each event once", async () => {
    t.store.behave = () => ({ accept: true, delayMs: 15 });
    const h = t.forward({ batchLimit: 1 });
    for (const event of names("e", 8)) h.events.put({ event });
    await Promise.all([h.events.flush(), h.events.flush(), h.events.flush()]);
    expect(t.store.maxInFlight).toBe(1);
    expect(t.store.deliveredRows().map((row) => row.event)).toEqual(names("e", 8)); // each once, in order
    expect(t.store.requests).toHaveLength(8);
  });

  test("flushes, scheduled sends and retries never overlap", async () => {
    t.store.behave = (_, i) => (i % 3 === 1 ? { status: 500 } : { accept: true, delayMs: 10 });
    const h = t.forward({ batchLimit: 5, maxAttempts: 5 });
    const list = names("e", 60);
    const flushes: Promise<void>[] = [];
    list.forEach((event, i) => {
      h.events.put({ event });
      if (i % 7 === 0) flushes.push(h.events.flush());
    });
    flushes.push(h.events.flush(), h.events.flush());
    await Promise.all(flushes);
    expect(t.store.maxInFlight).toBe(1);
    expect(t.store.events()).toEqual(list);
  });
});
