import { describe, expect, it } from "vitest";
import { FieldKind, LegacyEvent, serializeV1Event, serializeV2Event } from "../../../src/collector.js";
import { EventError } from "../../../src/index.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const parse = (event: LegacyEvent) =>
  JSON.parse(event.serialize()) as Record<string, unknown> & { payload: Record<string, unknown> };

describe("legacy Event", () => {
  it("serializes topic, type, integer millisecond timestamp, uuid and payload, in that order", () => {
    const event = new LegacyEvent("topic", "type", {
      timestamp: new Date("2024-01-02T03:04:05.678Z"),
      id: "6f1c2c55-47b0-4a8e-9a4e-0d2f3c1b9e01",
    });
    event.setField("a", 1);
    expect(event.serialize()).toBe(
      '{"event_topic":"topic","event_type":"type","event_ts":1704164645678,"uuid":"6f1c2c55-47b0-4a8e-9a4e-0d2f3c1b9e01","payload":{"a":1}}',
    );
  });

  it("defaults to now and a fresh v4 UUID", () => {
    const before = Date.now();
    const a = parse(new LegacyEvent("t", "e"));
    const b = parse(new LegacyEvent("t", "e"));
    expect(a.event_ts).toBeGreaterThanOrEqual(before);
    expect(a.event_ts).toBeLessThanOrEqual(Date.now());
    expect(Number.isInteger(a.event_ts)).toBe(true);
    expect(a.uuid).toMatch(UUID_V4);
    expect(b.uuid).not.toBe(a.uuid);
  });

  it("cuts fractional milliseconds (a float timestamp becomes an integer)", () => {
    expect(parse(new LegacyEvent("t", "e", { timestamp: 1_700_000_000_999.99 })).event_ts).toBe(1_700_000_000_999);
  });

  it("puts each kind of field in its section of the payload", () => {
    const event = new LegacyEvent("t", "e")
      .setField("normal", "n")
      .setField("ip", "192.0.2.7", FieldKind.OBFUSCATED)
      .setField("email", "a@example.com", FieldKind.OBFUSCATED)
      .setField("user_agent", "UA", FieldKind.HIGH_CARDINALITY)
      .setField("explicit", true, FieldKind.NORMAL);
    expect(parse(event).payload).toEqual({
      normal: "n",
      explicit: true,
      obfuscated_data: { ip: "192.0.2.7", email: "a@example.com" },
      interana_excluded: { user_agent: "UA" },
    });
    expect(FieldKind).toEqual({
      NORMAL: "normal",
      OBFUSCATED: "obfuscated_data",
      HIGH_CARDINALITY: "interana_excluded",
    });
  });

  it("does not send null, undefined or empty-string values, but keeps zero and false", () => {
    const event = new LegacyEvent("t", "e")
      .setField("zero", 0)
      .setField("no", false)
      .setField("null", null)
      .setField("undef", undefined)
      .setField("empty", "")
      .setField("hidden_empty", "", FieldKind.OBFUSCATED)
      .setField("hidden_zero", 0, FieldKind.HIGH_CARDINALITY);
    expect(event.serialize()).toContain('"payload":{"zero":0,"no":false,"interana_excluded":{"hidden_zero":0}}');
  });

  it("setting a field to null or empty removes it; a key lives in one kind at a time", () => {
    const event = new LegacyEvent("t", "e").setField("a", "x").setField("b", "y", FieldKind.OBFUSCATED);
    event.setField("a", null).setField("b", "");
    expect(parse(event).payload).toEqual({});
    event.setField("c", 1).setField("c", 2, FieldKind.HIGH_CARDINALITY);
    expect(parse(event).payload).toEqual({ interana_excluded: { c: 2 } });
  });

  it("getField finds a field whatever its kind, undefined when absent", () => {
    const event = new LegacyEvent("t", "e")
      .setField("n", 0)
      .setField("ip", "192.0.2.1", FieldKind.OBFUSCATED)
      .setField("s", "z", FieldKind.HIGH_CARDINALITY);
    expect(event.getField("n")).toBe(0);
    expect(event.getField("ip")).toBe("192.0.2.1");
    expect(event.getField("s")).toBe("z");
    expect(event.getField("missing")).toBeUndefined();
    expect(event.getField("obfuscated_data")).toBeUndefined();
  });

  it("a field named __proto__ is just a field", () => {
    const event = new LegacyEvent("t", "e").setField("__proto__", { polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(event.serialize()).toContain('"payload":{"__proto__":{"polluted":true}}');
  });

  it("rejects bad input with EventError", () => {
    expect(() => new LegacyEvent("", "e")).toThrow(EventError);
    expect(() => new LegacyEvent("t", 5 as unknown as string)).toThrow(/eventType must be a non-empty string/);
    expect(() => new LegacyEvent("t", "e", { timestamp: new Date("nope") })).toThrow(/timestamp/);
    expect(() => new LegacyEvent("t", "e", { id: "not-a-uuid" })).toThrow(/UUID/);
    expect(() => new LegacyEvent("t", "e").setField("x", 1, "secret" as FieldKind)).toThrow(/kind/);
    expect(() => new LegacyEvent("t", "e").setField("obfuscated_data", 1)).toThrow(/clash/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = new LegacyEvent("t", "e").setField("cyclic", cyclic);
    expect(() => bad.serialize()).toThrow(EventError);
    expect(() => new LegacyEvent("t", "e").setField("big", 1n).serialize()).toThrow(EventError);
  });
});

describe("built-in collector serializers", () => {
  it("serializeV1Event takes only LegacyEvent objects", () => {
    const event = new LegacyEvent("t", "e");
    expect(serializeV1Event(event, {})).toBe(event.serialize());
    expect(() => serializeV1Event({ event: "signup" }, {})).toThrow(/takes an Event/);
    expect(() => serializeV1Event("{}", {})).toThrow(EventError);
  });

  it("serializeV2Event passes Thrift-JSON strings through untouched and stringifies objects once", () => {
    const text = '{ "1" : {"str":"x"} }';
    expect(serializeV2Event(text, {})).toBe(text);
    expect(serializeV2Event({ "1": { str: "x" } }, {})).toBe('{"1":{"str":"x"}}');
  });

  it("serializeV2Event refuses what is not one JSON object", () => {
    expect(() => serializeV2Event("{broken", {})).toThrow(EventError);
    expect(() => serializeV2Event("[1,2]", {})).toThrow(/struct/);
    expect(() => serializeV2Event(["a"], {})).toThrow(EventError);
    expect(() => serializeV2Event(42, {})).toThrow(EventError);
    expect(() => serializeV2Event({ n: 1n }, {})).toThrow(EventError);
  });
});
