import { describe, expect, it } from "vitest";
import { batchBody } from "../../../src/stores/datasette/body.js";

const bytes = (payloads: string[]) => payloads.reduce((sum, p) => sum + Buffer.byteLength(p), 0);
const text = (body: string | Buffer) => (typeof body === "string" ? body : body.toString("utf8"));

describe("batchBody", () => {
  const batches: [string, string[]][] = [
    ["ASCII rows", ['{"a":1}', '{"b":"two"}', "{}"]],
    ["one row", ['{"only":true}']],
    ["multi-byte characters at the ends", ['{"é":"€"}', '"😀"', "ü"]],
    ["a lone surrogate (written as U+FFFD, 3 bytes)", ['"\ud800"', '"x"']],
  ];

  for (const [name, payloads] of batches) {
    it(`writes exactly the joined text into one Buffer when the count is right: ${name}`, () => {
      const body = batchBody('{"rows":[', payloads, "]}", bytes(payloads));
      expect(Buffer.isBuffer(body)).toBe(true);
      expect(body).toEqual(Buffer.from(`{"rows":[${payloads.join(",")}]}`));
    });

    it(`falls back to the joined text when the count is off by any amount: ${name}`, () => {
      const right = bytes(payloads);
      for (const wrong of [right - 3, right - 2, right - 1, right + 1, right + 2, right + 5]) {
        const body = batchBody('{"rows":[', payloads, "]}", wrong);
        expect(typeof body).toBe("string");
        expect(text(body)).toBe(`{"rows":[${payloads.join(",")}]}`);
      }
    });
  }

  it("joins strings when no count is given, and frames an empty batch", () => {
    expect(batchBody("[", ["1", "2"], "]")).toBe("[1,2]");
    expect(batchBody("[", [], "]", 0)).toBe("[]");
  });
});
