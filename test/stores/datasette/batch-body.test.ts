import { describe, expect, it } from "vitest";
import { batchBody } from "../../../src/stores/datasette/body.js";
import { DatasetteRows } from "../../../src/row/datasette-row.js";
import type { QueuedEvent } from "../../../src/pipeline/queue.js";

const asText = (json: string): QueuedEvent => ({ json, bytes: Buffer.byteLength(json) });
const bytes = (events: readonly QueuedEvent[]) => events.reduce((sum, event) => sum + event.bytes, 0);
const text = (body: string | Buffer) => (typeof body === "string" ? body : body.toString("utf8"));
const joined = (events: readonly QueuedEvent[]) => `{"rows":[${events.map((event) => event.json).join(",")}]}`;

describe("batchBody", () => {
  const rows = new DatasetteRows("web");
  // Rows put with flat properties write their own bytes (no text made); the others are text.
  const flatRows = () => [
    rows.queued(
      { event: "request", properties: { method: "GET", path: "/a", status: 200, duration_ms: 0.137 } },
      { requestId: "r-1" },
    ),
    rows.queued({ event: "step", actorId: 7, properties: { n: -12, f: 1.5e-7, t: true, z: null, s: "" } }, {}),
  ];
  const batches: [string, () => QueuedEvent[]][] = [
    ["ASCII rows", () => ['{"a":1}', '{"b":"two"}', "{}"].map(asText)],
    ["one row", () => ['{"only":true}'].map(asText)],
    ["multi-byte characters at the ends", () => ['{"é":"€"}', '"😀"', "ü"].map(asText)],
    ["a lone surrogate (written as U+FFFD, 3 bytes)", () => ['"\ud800"', '"x"'].map(asText)],
    ["rows that write their own bytes", flatRows],
    [
      "rows writing their bytes between text rows",
      () => [asText('{"é":1}'), ...flatRows(), rows.queued({ event: "é", properties: { nested: { a: 1 } } }, {})],
    ],
  ];

  for (const [name, make] of batches) {
    it(`writes exactly the joined text into one Buffer when the count is right: ${name}`, () => {
      const events = make();
      const body = batchBody('{"rows":[', events, "]}", bytes(events));
      expect(Buffer.isBuffer(body)).toBe(true);
      expect(body).toEqual(Buffer.from(joined(events)));
    });

    it(`falls back to the joined text when the count is off by any amount: ${name}`, () => {
      const events = make();
      const right = bytes(events);
      for (const wrong of [right - 3, right - 2, right - 1, right + 1, right + 2, right + 5, right - 40]) {
        const body = batchBody('{"rows":[', events, "]}", wrong);
        expect(typeof body).toBe("string");
        expect(text(body)).toBe(joined(events));
      }
    });
  }

  it("writes a row's bytes without making its text, and the same bytes once its text is made", () => {
    const [row] = flatRows();
    const written = batchBody("", [row!], "", row!.bytes) as Buffer;
    const json = row!.json;
    expect(written.toString("utf8")).toBe(json);
    expect(batchBody("", [row!], "", row!.bytes)).toEqual(Buffer.from(json));
  });

  it("stops at a count far too short before a text event would be written past the Buffer, and sends the text", () => {
    const events = [...flatRows(), asText('"1"')];
    const body = batchBody('{"rows":[', events, "]}", bytes(events) - 100);
    expect(body).toBe(joined(events));
  });

  it("sends the text when an event writes more bytes than it counted, rather than throwing", () => {
    const liar: QueuedEvent = {
      json: '"x"',
      bytes: 3,
      writeTo: (into, at) => {
        into.set(new Uint8Array(100), at); // past the Buffer's end: set() throws
        return at + 100;
      },
    };
    expect(batchBody("[", [liar], "]", 3)).toBe('["x"]');
  });

  it("writes a suffix of any length", () => {
    const events = flatRows();
    const suffix = '],"return":false,"ignore":true}';
    expect(batchBody("[", events, suffix, bytes(events))).toEqual(
      Buffer.from(`[${events.map((event) => event.json).join(",")}${suffix}`),
    );
  });

  it("joins the text when no count is given, and frames an empty batch", () => {
    expect(batchBody("[", ["1", "2"].map(asText), "]")).toBe("[1,2]");
    expect(batchBody("[", [], "]", 0)).toBe("[]");
  });
});
