// Hostile or broken inputs to put(), from inside a request handler. Each one gets a typed error
// (an EventError subclass) or a safe result; the request still succeeds; the events put around
// it are delivered untouched.
import express from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EventError, EventTooLargeError, type EventsForward } from "../../src/index.js";
import { forwardTo, type Harness } from "../helpers/forward-to.js";
import { TestStore, type Row } from "../helpers/test-store.js";

type ErrorClass = abstract new (...args: never[]) => Error;
/** The error put() must throw, or a check of the row it must deliver. */
type Outcome = ErrorClass | ((row: Row) => void);

function circular(): object {
  const properties: Record<string, unknown> = { a: 1 };
  properties.self = properties;
  return { event: "circular", properties };
}

function nested(depth: number): object {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < depth; i++) node = node.a = {};
  return { event: "deep", properties: root };
}

const throwing = () => {
  throw new Error("getter says no");
};

/** [description, the input, what must happen]. */
const CASES: [string, () => unknown, Outcome][] = [
  ["undefined", () => undefined, EventError],
  ["null", () => null, EventError],
  ["a bare string", () => "signup", EventError],
  ["a number", () => 42, EventError],
  ["an array", () => [{ event: "x" }], EventError],
  ["no event name", () => ({ properties: {} }), EventError],
  ["an empty event name", () => ({ event: "" }), EventError],
  ["a numeric event name", () => ({ event: 42 }), EventError],
  ["a Symbol event name", () => ({ event: Symbol("x") }), EventError],
  ["a circular object", circular, EventError],
  ["a BigInt property", () => ({ event: "big", properties: { n: 10n } }), EventError],
  ["nesting deeper than the JSON stack", () => nested(100_000), EventError],
  ["properties: null", () => ({ event: "x", properties: null }), EventError],
  ["properties: an array", () => ({ event: "x", properties: [1, 2] }), EventError],
  ["properties: a string", () => ({ event: "x", properties: "a=1" }), EventError],
  ["created: not a date", () => ({ event: "x", created: "yesterday-ish" }), EventError],
  ["created: NaN", () => ({ event: "x", created: Number.NaN }), EventError],
  ["created: an Invalid Date", () => ({ event: "x", created: new Date("nope") }), EventError],
  ["created: an object", () => ({ event: "x", created: {} }), EventError],
  ["actorId: an object", () => ({ event: "x", actorId: { id: 1 } }), EventError],
  ["databaseName: a number", () => ({ event: "x", databaseName: 5 }), EventError],
  ["tableName: an object", () => ({ event: "x", tableName: { t: 1 } }), EventError],
  ["a misspelt field (propertes)", () => ({ event: "x", propertes: { plan: "pro" } }), EventError],
  ["a snake_case field (actor_id)", () => ({ event: "x", actor_id: "u1" }), EventError],
  [
    "fields set to undefined: as if left out",
    () => ({ event: "undefined-fields", actorId: undefined, properties: undefined, created: undefined }),
    (row) => expect([row.event, row.actor_id]).toEqual(["undefined-fields", null]),
  ],
  [
    "a huge string (over maxEventSize)",
    () => ({ event: "huge", properties: { s: "x".repeat(200_000) } }),
    EventTooLargeError,
  ],
  ["a toJSON that throws", () => ({ event: "x", properties: { v: { toJSON: throwing } } }), EventError],
  [
    "a getter on event that throws",
    () => Object.defineProperty({}, "event", { get: throwing, enumerable: true }),
    EventError,
  ],
  [
    "a property getter that throws",
    () => ({ event: "x", properties: Object.defineProperty({}, "v", { get: throwing, enumerable: true }) }),
    EventError,
  ],
  [
    "a Proxy whose every trap throws",
    () => new Proxy({}, { get: throwing, has: throwing, ownKeys: throwing, getOwnPropertyDescriptor: throwing }),
    EventError,
  ],
  [
    "Symbols, functions and undefined among the properties: left out, as JSON does",
    () => ({
      event: "odd-values",
      properties: { s: Symbol("s"), f: () => 1, u: undefined, [Symbol("k")]: 1, kept: true },
    }),
    (row) => expect(JSON.parse(row.properties)).toEqual({ kept: true, request_id: expect.any(String) }),
  ],
  [
    "a BigInt actorId: written as its digits",
    () => ({ event: "big-actor", actorId: 12345678901234567890n }),
    (row) => expect(row.actor_id).toBe("12345678901234567890"),
  ],
  [
    "lone surrogates: U+FFFD in text columns, escaped inside properties",
    () => ({ event: "lone \ud800 name", actorId: "a\udc00", properties: { s: "x\ud83dy" } }),
    (row) => {
      expect(row.event).toBe("lone \ufffd name");
      expect(row.actor_id).toBe("a\ufffd");
      expect(row.properties).toContain("x\\ud83dy");
    },
  ],
  [
    "a forged id, instance or unknown column: refused, naming the field",
    () => ({ event: "forged", id: "01FORGED" }),
    EventError,
  ],
  [
    "a properties object without a prototype",
    () => ({ event: "null-proto", properties: Object.assign(Object.create(null) as object, { a: 1 }) }),
    (row) => expect(JSON.parse(row.properties)).toMatchObject({ a: 1 }),
  ],
  [
    "a toJSON that returns undefined for the properties: an empty object",
    () => ({ event: "no-json", properties: { toJSON: () => undefined } }),
    (row) => expect(row.properties).toBe("{}"),
  ],
  [
    "a Map, a Set, a Buffer and a Date among the properties: their JSON forms",
    () => ({
      event: "objects",
      properties: { m: new Map([[1, 2]]), s: new Set([1]), b: Buffer.from("hi"), d: new Date(0) },
    }),
    (row) =>
      expect(JSON.parse(row.properties)).toMatchObject({
        m: {},
        s: {},
        b: { type: "Buffer", data: [104, 105] },
        d: "1970-01-01T00:00:00.000Z",
      }),
  ],
];

let store: TestStore;
let h: Harness;
let app: express.Express;
const thrown = new Map<number, unknown>();

beforeAll(async () => {
  store = await new TestStore().start();
  h = forwardTo(store, { maxQueueSize: 1000 });
  app = express();
  app.use(h.events);
  app.get("/case/:i", (req, res) => {
    const i = Number(req.params.i);
    req.events.put({ event: `before-${i}` });
    try {
      req.events.put(CASES[i]![1]() as never);
    } catch (error) {
      thrown.set(i, error);
    }
    req.events.put({ event: `after-${i}` });
    res.send("still fine");
  });
});

afterAll(async () => {
  await h.events.close({ timeoutMs: 100 });
  await store.stop();
});

describe("put() with hostile input", () => {
  test(`the corpus has at least 30 inputs (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  test.each(CASES.map((c, i) => [c[0], i] as const))("%s", async (_, i) => {
    await request(app).get(`/case/${i}`).expect(200, "still fine");
    await h.events.flush();
    const outcome = CASES[i]![2];
    const rows = [...store.table.values()];
    const around = rows.filter((row) => row.event === `before-${i}` || row.event === `after-${i}`);
    expect(around.map((row) => row.event)).toEqual([`before-${i}`, `after-${i}`]);
    const between = rows.slice(rows.indexOf(around[0]!) + 1, rows.indexOf(around[1]!));
    if (outcome === EventError || outcome === EventTooLargeError) {
      expect(thrown.get(i)).toBeInstanceOf(outcome);
      expect((thrown.get(i) as Error).message.length).toBeLessThan(300);
      expect(between).toEqual([]);
    } else {
      expect(thrown.has(i)).toBe(false);
      expect(between).toHaveLength(1);
      (outcome as (row: Row) => void)(between[0]!);
    }
  });

  test("nothing was dropped and nothing else reached the store", () => {
    expect(h.drops).toEqual([]);
    const safe = CASES.filter((c) => c[2] !== EventError && c[2] !== EventTooLargeError).length;
    expect(store.table.size).toBe(CASES.length * 2 + safe);
  });
});

describe("a custom serializer that misbehaves", () => {
  async function withSerializer(serializer: () => unknown): Promise<{ error: unknown; events: EventsForward }> {
    const local = forwardTo(store, { serializer: serializer as never });
    let error: unknown;
    try {
      local.events.put({ event: "x" });
    } catch (e) {
      error = e;
    }
    await local.events.close({ timeoutMs: 100 });
    return { error, events: local.events };
  }

  test("one that throws: EventError, with the cause kept", async () => {
    const { error } = await withSerializer(() => {
      throw new RangeError("serializer bug");
    });
    expect(error).toBeInstanceOf(EventError);
    expect((error as Error).cause).toBeInstanceOf(RangeError);
  });

  test("one that returns a non-string: EventError", async () => {
    const { error } = await withSerializer(() => ({ not: "a string" }));
    expect(error).toBeInstanceOf(EventError);
  });
});
