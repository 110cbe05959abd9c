import { describe, expect, it } from "vitest";
import { datasetteRowSerializer } from "../src/event.js";

// The serializer writes the row text directly (no row object); it must be the very text that
// JSON.stringify makes of the row object, key order and escapes included.
describe("the row text", () => {
  const serialize = datasetteRowSerializer('web "1" é');
  const cases: [string, object, { requestId?: string; actorId?: unknown }][] = [
    ["a bare event", { event: "signup" }, {}],
    ["escapes in every text column", { event: 'quote " slash \\ nl \n é \u2028', actorId: 'a"b', databaseName: "d\\b", tableName: "t\tb" }, {}],
    ["properties with the request id added last", { event: "e", properties: { "2": "int key first", b: 1, a: [1, { c: null }] } }, { requestId: "req-1" }],
    ["empty properties with a request id", { event: "e", properties: {} }, { requestId: "req-2" }],
    ["properties whose values are all undefined", { event: "e", properties: { gone: undefined } }, { requestId: "req-3" }],
    ["the event's own request_id kept", { event: "e", properties: { request_id: "own" } }, { requestId: "req-4" }],
    ["a null-prototype properties object", { event: "e", properties: Object.assign(Object.create(null), { x: 1 }) }, { requestId: "r" }],
    ["properties with toJSON", { event: "e", properties: { toJSON: () => ({ replaced: true }) } }, { requestId: "r" }],
    ["a numeric actor from the request", { event: "e" }, { actorId: 42 }],
    ["lone surrogates in text columns made well-formed", { event: "e\ud800", actorId: "\udfff", databaseName: "d\udc00", tableName: "ok\ud83d\ude00" }, {}],
    ["a given created date", { event: "e", created: "2024-01-02T03:04:05+02:00" }, {}],
  ];

  for (const [name, input, meta] of cases) {
    it(`is JSON.stringify of the row object: ${name}`, () => {
      const text = serialize(input, meta);
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
        database_name: text2(event.databaseName ?? null),
        table_name: text2(event.tableName ?? null),
        properties: expectedProperties,
      };
      expect(text).toBe(JSON.stringify(row2));
    });
  }

  it("repeats no stale name or actor when they change between events", () => {
    const rows = ["a", "b", "a"].map((name, i) => JSON.parse(serialize({ event: name, actorId: `u${i % 2}` }, {})) as Record<string, unknown>);
    expect(rows.map((row) => [row.event, row.actor_id])).toEqual([["a", "u0"], ["b", "u1"], ["a", "u0"]]);
  });
});
