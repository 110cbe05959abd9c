import { describe, expect, it, vi } from "vitest";
import type { EventMeta } from "../../src/row/event-input.js";
import { EventError } from "../../src/core/errors.js";
import { DatasetteRows, datasetteRowSerializer } from "../../src/row/datasette-row.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";

/** What writeTo() writes, between bytes it must leave alone; it must end exactly `bytes` later. */
function writtenBytes(queued: QueuedEvent): string {
  const into = Buffer.alloc(queued.bytes + 16, 0x7e);
  const end = queued.writeTo!(into, 8);
  expect(end - 8).toBe(queued.bytes);
  expect(into.subarray(0, 8).toString()).toBe("~".repeat(8));
  expect(into.subarray(end).toString()).toBe("~".repeat(8));
  return into.toString("utf8", 8, end);
}

// The serializer writes the row text directly (no row object); it must be the very text that
// JSON.stringify makes of the row object, key order and escapes included.
describe("the row text", () => {
  const serialize = datasetteRowSerializer('web "1" é');
  const cases: [string, object, { requestId?: string; actorId?: unknown }][] = [
    ["a bare event", { event: "signup" }, {}],
    [
      "escapes in every text column",
      { event: 'quote " slash \\ nl \n é \u2028', actorId: 'a"b', databaseName: "d\\b", tableName: "t\tb" },
      {},
    ],
    [
      "properties with the request id added last",
      { event: "e", properties: { "2": "int key first", b: 1, a: [1, { c: null }] } },
      { requestId: "req-1" },
    ],
    ["empty properties with a request id", { event: "e", properties: {} }, { requestId: "req-2" }],
    [
      "properties whose values are all undefined",
      { event: "e", properties: { gone: undefined } },
      { requestId: "req-3" },
    ],
    ["the event's own request_id kept", { event: "e", properties: { request_id: "own" } }, { requestId: "req-4" }],
    [
      "a null-prototype properties object",
      { event: "e", properties: Object.assign(Object.create(null), { x: 1 }) },
      { requestId: "r" },
    ],
    ["properties with toJSON", { event: "e", properties: { toJSON: () => ({ replaced: true }) } }, { requestId: "r" }],
    ["a numeric actor from the request", { event: "e" }, { actorId: 42 }],
    [
      "lone surrogates in text columns made well-formed",
      { event: "e\ud800", actorId: "\udfff", databaseName: "d\udc00", tableName: "ok\ud83d\ude00" },
      {},
    ],
    ["a given created date", { event: "e", created: "2024-01-02T03:04:05+02:00" }, {}],
  ];

  // put() queues rows whose text is made later (flat properties) or at once (the rest): the
  // same text either way, and the size it counted is the text's.
  const rows = new DatasetteRows('web "1" é');
  const queuedText = (input: object, meta: EventMeta) => {
    const queued = rows.queued(input, meta);
    // The batch body's path first: the bytes written from the row's parts, before any text exists.
    const written = writtenBytes(queued);
    const text = queued.json;
    expect(queued.bytes).toBe(Buffer.byteLength(text));
    expect(written).toBe(text);
    return text;
  };
  const flatCases: typeof cases = [
    [
      "flat properties of every plain kind",
      {
        event: "e",
        properties: {
          s: "plain",
          e: "",
          n: -0,
          f: 0.1,
          big: 1e21,
          tiny: 5e-324,
          nan: Number.NaN,
          inf: -Infinity,
          t: true,
          no: false,
          z: null,
        },
      },
      { requestId: "r-1" },
    ],
    [
      "flat properties with undefined values and integer keys",
      { event: "e", properties: { b: undefined, "10": 1, "2": "two", a: undefined } },
      { requestId: "r-2" },
    ],
    [
      "an own request_id left undefined",
      { event: "e", properties: { request_id: undefined, x: 1 } },
      { requestId: "r-3" },
    ],
    ["no properties, no request id", { event: "e" }, {}],
    [
      "strings JSON must escape",
      { event: "e", properties: { q: 'a"b', bs: "a\\b", nl: "a\nb", u: "é", tab: "\t" } },
      { requestId: "r-4" },
    ],
    // Each kind alone, so that each check is what sends the event to the full serializer.
    ...(["a\nb", "\t", "\u0000", "\u001f", "\u007f", "é", "€", 'a"b', "a\\b"].map((text) => [
      `a string JSON must escape alone: ${JSON.stringify(text)}`,
      { event: "e", properties: { n: 1, s: text } },
      { requestId: "r-4" },
    ]) as typeof cases),
    ["the plain characters at both ends of the range", { event: "e", properties: { s: " ~" } }, { requestId: "r-4" }],
    [
      "a class instance with toJSON on its prototype",
      {
        event: "e",
        properties: new (class {
          a = 1;
          toJSON() {
            return { b: 2 };
          }
        })(),
      },
      {},
    ],
    ["keys JSON must escape", { event: "e", properties: { 'k"': 1, ké: 2 } }, { requestId: "r-5" }],
    [
      "a __proto__ key",
      { event: "e", properties: JSON.parse('{"__proto__": 1, "a": 2}') as object },
      { requestId: "r-6" },
    ],
    ["a request id JSON must escape", { event: "e", properties: { a: 1 } }, { requestId: 'id"é' }],
    ["a nested value", { event: "e", properties: { a: { b: [1, "x"] }, c: "d" } }, { requestId: "r-7" }],
    ["a toJSON key that is not a function", { event: "e", properties: { toJSON: 1 } }, {}],
    ["a Date value", { event: "e", properties: { at: new Date(0) } }, {}],
    [
      "with a database and table",
      { event: "e", databaseName: "dé", tableName: "t", properties: { a: 1 } },
      { actorId: "ü" },
    ],
    ["empty names", { event: "e", databaseName: "", tableName: "", properties: { a: "" } }, {}],
  ];

  for (const [name, input, meta] of [...cases, ...flatCases]) {
    it(`is JSON.stringify of the row object, made at once or queued: ${name}`, () => {
      const text = serialize(input, meta);
      expectRowText(text, input, meta);
      expectRowText(queuedText(input, meta), input, meta);
    });
  }

  function expectRowText(text: string, input: object, meta: { requestId?: string; actorId?: unknown }) {
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    const row = JSON.parse(text) as Record<string, unknown>;
    const event = input as Record<string, unknown>;
    const properties = event.properties as object | undefined;
    const expectedProperties =
      meta.requestId === undefined || (properties !== undefined && "request_id" in properties)
        ? JSON.stringify(properties ?? {})
        : JSON.stringify({ ...properties, request_id: meta.requestId });
    const actor = event.actorId ?? meta.actorId;
    const text2 = (value: unknown) => (typeof value === "string" ? value.replace(/\p{Cs}/gu, "\uFFFD") : value);
    const row2 = {
      id: row.id,
      instance: 'web "1" é',
      event: text2(event.event),
      created: row.created,
      actor_id: actor === undefined ? null : text2(String(actor)),
      // An empty name is null, as the plugin writes it (`if database_name:`).
      database_name: text2(event.databaseName || null),
      table_name: text2(event.tableName || null),
      properties: expectedProperties,
    };
    expect(text).toBe(JSON.stringify(row2));
  }

  it("gives each row the random low bits of its id (all 40 of them, in the text and in the bytes)", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const lows = new Set<string>();
      for (let i = 0; i < 200; i++) {
        vi.setSystemTime(4_000_000_000_000 + i); // a new millisecond, past any real one: new random bits
        const queued = rows.queued({ event: "e", properties: { i } }, {});
        const written = writtenBytes(queued);
        const id = (JSON.parse(queued.json) as { id: string }).id;
        expect((JSON.parse(written) as { id: string }).id).toBe(id);
        lows.add(id.slice(18, 22)); // the high 20 of the 40 low bits
      }
      expect(lows.size).toBeGreaterThan(190);
    } finally {
      vi.useRealTimers();
    }
  });

  it("writes created from the clock in Python's isoformat(), the fraction left out at a whole second, and counts its bytes", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const createdAt = (iso: string) => {
        vi.setSystemTime(new Date(iso));
        const queued = rows.queued({ event: "e", properties: { a: 1 } }, {});
        // The bytes the batch writes first (no text made yet), then the text.
        const written = (JSON.parse(writtenBytes(queued)) as { created: string }).created;
        const text = queued.json;
        expect(queued.bytes).toBe(Buffer.byteLength(text));
        expect(written).toBe((JSON.parse(text) as { created: string }).created);
        return written;
      };
      expect(createdAt("2026-12-01T12:11:22.000Z")).toBe("2026-12-01T12:11:22+00:00");
      expect(createdAt("2026-12-01T12:11:22.058Z")).toBe("2026-12-01T12:11:22.058000+00:00");
      expect(createdAt("2026-12-01T12:11:22.005Z")).toBe("2026-12-01T12:11:22.005000+00:00");
      expect(createdAt("2026-12-01T12:11:22.999Z")).toBe("2026-12-01T12:11:22.999000+00:00");
      expect(createdAt("2026-12-01T12:11:23.000Z")).toBe("2026-12-01T12:11:23+00:00");
      expect(createdAt("2026-12-01T12:11:23.100Z")).toBe("2026-12-01T12:11:23.100000+00:00");
      expect(createdAt("2027-01-01T00:00:00.010Z")).toBe("2027-01-01T00:00:00.010000+00:00");
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps a queued event as it was put, whatever the app changes afterwards", () => {
    const properties: Record<string, unknown> = { plan: "pro", n: 1 };
    const queued = rows.queued({ event: "e", properties }, { requestId: "r" });
    // Flat properties take the fast path: a copy is kept, the text made when first read.
    expect((queued as unknown as { copy?: object }).copy).toEqual({ plan: "pro", n: 1 });
    properties.plan = "free";
    properties.added = true;
    expect(JSON.parse((JSON.parse(queued.json) as { properties: string }).properties)).toEqual({
      plan: "pro",
      n: 1,
      request_id: "r",
    });
  });

  it("writes the same text while Object.prototype has an enumerable key (polluted)", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = "yes";
    try {
      for (const input of [{ event: "e" }, { event: "e", properties: { a: 1 } }]) {
        expectRowText(queuedText(input, { requestId: "r" }), input, { requestId: "r" });
      }
    } finally {
      delete proto.polluted;
    }
  });

  it("writes the same text while Object.prototype has a toJSON() (not enumerable)", () => {
    Object.defineProperty(Object.prototype, "toJSON", {
      value: () => ({ replaced: true }),
      configurable: true,
      writable: true,
    });
    try {
      // The same text as the serializer that runs at once; properties with a toJSON() are replaced.
      const sameIdAndTime = (text: string, like: string) => {
        const { id, created } = JSON.parse(like) as { id: string; created: string };
        return text.replace(/"id":"[^"]*"/, `"id":"${id}"`).replace(/"created":"[^"]*"/, `"created":"${created}"`);
      };
      for (const input of [{ event: "e" }, { event: "e", properties: { a: 1 } }]) {
        const text = queuedText(input, { requestId: "r" });
        expect(text).toBe(sameIdAndTime(serialize(input, { requestId: "r" }), text));
      }
      const withProperties = queuedText({ event: "e", properties: { a: 1 } }, { requestId: "r" });
      expect(JSON.parse((JSON.parse(withProperties) as { properties: string }).properties)).toEqual({ replaced: true });
    } finally {
      delete (Object.prototype as Record<string, unknown>).toJSON;
    }
  });

  it("counts the exact bytes of random flat events", () => {
    const pieces = ["a", "Z", "0", " ", "~", '"', "\\", "é", "\n", "request_id", "__proto__", "toJSON", ""];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = () => Array.from({ length: random(4) }, () => pieces[random(pieces.length)]).join("");
    const values = [
      () => text(),
      () => random(1e6) / (1 + random(9)),
      () => random(2) === 0,
      () => null,
      () => undefined,
      () => -random(1e9),
    ];
    for (let i = 0; i < 500; i++) {
      const properties: Record<string, unknown> = {};
      for (let k = random(6); k > 0; k--) properties[text()] = values[random(values.length)]!();
      const meta = random(3) === 0 ? {} : { requestId: text() || "r" };
      const input = { event: "e", properties };
      expectRowText(queuedText(input, meta), input, meta);
    }
  });

  it("checks every property name that differs from the last event's at the same position", () => {
    const meta = { requestId: "r" };
    const shapes = [{ a: 1, b: 2 }, { a: 1, 'b"': 2 }, { a: 1, b: 2 }, { é: 1 }, { a: 1, "b\\": 2 }];
    for (const properties of shapes) {
      const input = { event: "e", properties };
      expectRowText(queuedText(input, meta), input, meta);
    }
  });

  it("repeats no stale name, actor, database or table when they change between events", () => {
    const inputs = [
      { event: "a", actorId: "u0" },
      { event: "b", actorId: "u1", databaseName: "d1" },
      { event: "a", actorId: "u1", databaseName: "d1", tableName: "t1" },
      { event: "a", actorId: "u1", databaseName: "d2", tableName: "t1" },
      { event: "a", actorId: null, databaseName: "d2", tableName: null },
      { event: "a", actorId: 7 },
    ];
    for (const make of [serialize, queuedText]) {
      const rows = inputs.map((input) => JSON.parse(make(input, {})) as Record<string, unknown>);
      expect(rows.map((row) => [row.event, row.actor_id, row.database_name, row.table_name])).toEqual([
        ["a", "u0", null, null],
        ["b", "u1", "d1", null],
        ["a", "u1", "d1", "t1"],
        ["a", "u1", "d2", "t1"],
        ["a", null, "d2", null],
        ["a", "7", null, null],
      ]);
    }
  });

  it("writes every event name right, past the names it keeps (1000)", () => {
    const names = Array.from({ length: 1_100 }, (_, i) => `event-${i}`);
    for (const round of [1, 2]) {
      const seen = names.map(
        (name) => (JSON.parse(queuedText({ event: name, properties: { round } }, {})) as { event: string }).event,
      );
      expect(seen).toEqual(names);
    }
  });

  it("writes every property name right, past the 10,000 names whose text it keeps, and in rows of alternating shapes", () => {
    const input = (i: number) => ({
      event: "e",
      properties: i % 2 === 0 ? { [`name-${i}`]: i, shared: "x" } : { shared: "y", [`name-${i}`]: true },
    });
    for (let i = 0; i < 10_100; i++) {
      const queued = rows.queued(input(i), { requestId: "r" });
      // Every row's bytes, then its text, for the last few hundred (past the bound); a sample before it.
      if (i > 9_900 || i % 500 === 0) {
        expectRowText(writtenBytes(queued), input(i), { requestId: "r" });
        expectRowText(queued.json, input(i), { requestId: "r" });
      }
    }
  });

  it("keeps event names' text only once a row is accepted (read for a batch), within a budget of bytes", () => {
    const fresh = new DatasetteRows("web");
    const kept = () => (fresh as unknown as { eventSegments: Map<string, unknown> }).eventSegments;
    // text() is a serializer's answer, which may still be refused; queued() alone is not an acceptance.
    for (let i = 0; i < 100; i++) fresh.text({ event: `event-${i}` }, {});
    for (let i = 0; i < 100; i++) fresh.queued({ event: `queued-${i}` }, {});
    expect(kept().size).toBe(0);
    // A batch reads the row: now its name is kept; a name too long to be worth keeping is not.
    void fresh.queued({ event: "accepted" }, {}).json;
    void fresh.queued({ event: "x".repeat(129) }, {}).json;
    expect([...kept().keys()]).toEqual(["accepted"]);
    // Names made from data stop at the budget: 256 KiB, some 600 names of 100 characters (each
    // costs its name, its segment's text and bytes, and an entry).
    for (let i = 0; i < 5_000; i++) void fresh.queued({ event: `${i}-`.padEnd(100, "n") }, {}).json;
    expect(kept().size).toBeGreaterThan(500);
    expect(kept().size).toBeLessThan(700);
  });

  it("writes {} for properties whose toJSON() returns undefined (JSON.stringify would drop the column)", () => {
    const input = { event: "e", properties: { toJSON: () => undefined } };
    expect((JSON.parse(serialize(input, {})) as { properties: unknown }).properties).toBe("{}");
  });

  it("names the event in a serialization failure, keeping the cause, and lets an EventError from a toJSON() through as it is", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const thrownBy = (properties: object): unknown => {
      try {
        serialize({ event: "e", properties }, {});
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    };
    const error = thrownBy(circular);
    expect(error).toBeInstanceOf(EventError);
    expect((error as Error).message).toMatch(/^event "e" cannot be serialized to JSON: .*circular/i);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    const own = new EventError("the app's own refusal");
    expect(
      thrownBy({
        toJSON: () => {
          throw own;
        },
      }),
    ).toBe(own);
  });
});
