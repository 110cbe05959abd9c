import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import {
  datasetteRowSerializer,
  EventError,
  EventQueueFullError,
  EventTooLargeError,
  ROW_COLUMNS,
} from "../../src/index.js";
import { EIGHT_COLUMNS, ISO_UTC, ULID } from "../helpers/row-format.js";
import { startForwarder, startStore } from "../helpers/lifecycle.js";
import { unreachableUrl } from "../helpers/test-store.js";

describe("the row", () => {
  it("has exactly the eight datasette-events-forward columns, in order, as it arrives at the store", async () => {
    expect([...ROW_COLUMNS]).toEqual(EIGHT_COLUMNS);
    const store = await startStore();
    const events = startForwarder(store.url(), { instance: "web-1" });
    events.put({
      event: "signup",
      actorId: "u1",
      databaseName: "db",
      tableName: "t",
      properties: { plan: "pro", nested: { ok: true }, text: "é" },
      created: new Date("2024-01-02T03:04:05.678Z"),
    });
    events.put({ event: "bare" });
    await events.flush();
    const [full, bare] = store.deliveredRows();
    expect(Object.keys(full!.raw)).toEqual(EIGHT_COLUMNS);
    expect(Object.keys(bare!.raw)).toEqual(EIGHT_COLUMNS);
    expect(full!.raw).toEqual({
      id: expect.stringMatching(ULID),
      instance: "web-1",
      event: "signup",
      created: "2024-01-02T03:04:05.678000+00:00",
      actor_id: "u1",
      database_name: "db",
      table_name: "t",
      properties: '{"plan":"pro","nested":{"ok":true},"text":"é"}',
    });
    expect(bare!.raw).toMatchObject({
      event: "bare",
      actor_id: null,
      database_name: null,
      table_name: null,
      properties: "{}",
    });
  });

  it("writes created as Python's isoformat() of a UTC datetime, from now, a Date, an ISO string with an offset, or epoch milliseconds", () => {
    const serialize = datasetteRowSerializer("i");
    const created = (input: Date | string | number | undefined) =>
      JSON.parse(serialize({ event: "e", created: input }, {})).created;
    const before = Date.now();
    const now = created(undefined);
    expect(now).toMatch(ISO_UTC);
    expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(now)).toBeLessThanOrEqual(Date.now());
    expect(created(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe("2024-01-02T03:04:05.006000+00:00");
    expect(created(Date.UTC(2026, 11, 1, 12, 11, 22, 58))).toBe("2026-12-01T12:11:22.058000+00:00");
    // Python leaves the fraction out when it is zero.
    expect(created("2024-01-02T03:04:05+02:00")).toBe("2024-01-02T01:04:05+00:00");
    expect(created(0)).toBe("1970-01-01T00:00:00+00:00");
    expect(created("2024-01-02T03:04:05.9999Z")).toBe("2024-01-02T03:04:05.999000+00:00");
    expect(() => created("yesterday")).toThrow(EventError);
  });

  it("writes actor ids as text and takes the request's actor and request id when the event names none", () => {
    const serialize = datasetteRowSerializer("i");
    const row = (input: object, meta = {}) => JSON.parse(serialize(input, meta));
    expect(row({ event: "e", actorId: 42 }).actor_id).toBe("42");
    expect(row({ event: "e", actorId: null }, { actorId: "from-request" }).actor_id).toBeNull();
    expect(row({ event: "e" }, { actorId: "from-request" }).actor_id).toBe("from-request");
    expect(JSON.parse(row({ event: "e", properties: { a: 1 } }, { requestId: "r1" }).properties)).toEqual({
      a: 1,
      request_id: "r1",
    });
    expect(() => row({ event: "e", actorId: { id: 1 } })).toThrow(EventError);
  });

  it("gives ULID ids that are strictly increasing within one forwarder, even within one millisecond", () => {
    const serialize = datasetteRowSerializer("i");
    const before = Date.now();
    const ids = Array.from({ length: 2000 }, () => JSON.parse(serialize({ event: "e" }, {})).id as string);
    expect(ids.filter((id) => !ULID.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(decodeTime(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(ids.at(-1)!)).toBeLessThanOrEqual(Date.now());
  });

  it("gives ids that are monotonic in the process, across forwarders' serializers", () => {
    const first = datasetteRowSerializer("a");
    const second = datasetteRowSerializer("b");
    const ids = Array.from(
      { length: 1000 },
      (_, i) => JSON.parse((i % 2 ? first : second)({ event: "e" }, {})).id as string,
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("keeps put() order and id order the same at the store", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 7 });
    for (let i = 0; i < 50; i++) events.put({ event: `e${i}` });
    await events.flush();
    const rows = store.deliveredRows();
    expect(rows.map((row) => row.event)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    const ids = rows.map((row) => row.id);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("put() input checks", () => {
  it("throws EventTooLargeError, giving the size in bytes, only for events over maxEventSize", async () => {
    const input = { event: "big", properties: { text: "é".repeat(300) } }; // 2 bytes a character in UTF-8
    const size = Buffer.byteLength(datasetteRowSerializer("test")(input, {})); // id and created have fixed lengths
    const url = await unreachableUrl();
    const atLimit = startForwarder(url, { maxEventSize: size });
    atLimit.put(input);
    expect(atLimit.stats().queued).toBe(1);

    const overLimit = startForwarder(url, { maxEventSize: size - 1 });
    let error: unknown;
    try {
      overLimit.put(input);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toBeInstanceOf(EventError);
    expect((error as EventTooLargeError).size).toBe(size);
    expect((error as Error).message).toContain(`${size} bytes`);
    expect((error as Error).message).toContain(`${size - 1}`);
    // It failed alone: the forwarder takes the next event.
    overLimit.put({ event: "small" });
    expect(overLimit.stats().queued).toBe(1);
  });

  it("throws EventQueueFullError once maxQueueSize events wait", async () => {
    const events = startForwarder(await unreachableUrl(), { maxQueueSize: 3 });
    for (let i = 0; i < 3; i++) events.put({ event: `e${i}` });
    let error: unknown;
    try {
      events.put({ event: "e3" });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(EventQueueFullError);
    expect(error).toBeInstanceOf(EventError);
    expect((error as Error).name).toBe("EventQueueFullError");
    expect((error as Error).message).toMatch(/holds 3 events.*maxQueueSize/);
    expect(events.stats()).toMatchObject({ queued: 3, overflowed: 1 });
  });

  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const bad: [string, unknown, RegExp][] = [
    ["circular properties", { event: "e", properties: circular }, /cannot be serialized.*circular/i],
    ["a BigInt property", { event: "e", properties: { n: 10n } }, /cannot be serialized.*BigInt/i],
    ["no event name", { properties: {} }, /"event" name/],
    ["an empty event name", { event: "" }, /"event" name/],
    ["a non-string event name", { event: 7 }, /"event" name/],
    ["null", null, /takes an object/],
    ["a string", "signup", /takes an object/],
    ["properties that are an array", { event: "e", properties: [1] }, /properties must be a plain object/],
    ["an invalid created", { event: "e", created: "not a date" }, /created must be/],
    ["a misspelt field", { event: "e", propertes: { plan: "pro" } }, /event "e": unknown field "propertes"/],
    ["a snake_case field", { event: "e", actor_id: "u1" }, /unknown field "actor_id" \(did you mean actorId\?\)/],
  ];

  it.each(bad)("throws EventError for %s, and the event fails alone", async (_what, input, message) => {
    const store = await startStore();
    const events = startForwarder(store.url());
    let error: unknown;
    try {
      events.put(input as never);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(EventError);
    expect((error as Error).constructor).toBe(EventError);
    expect((error as Error).message).toMatch(message);
    events.put({ event: "good" });
    await events.flush();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["good"]);
  });

  it("throws EventError when a custom serializer returns something other than text", async () => {
    const events = startForwarder(await unreachableUrl(), { serializer: () => 42 as unknown as string });
    expect(() => events.put({ event: "e" })).toThrow(EventError);
    expect(events.stats().queued).toBe(0);
  });
});
