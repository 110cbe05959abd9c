import { createSecretKey } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  frameBody,
  framedBytes,
  gzipBody,
  signBody,
  type CollectorVersion,
} from "../../../src/stores/collector/wire.js";

describe("collector body framing", () => {
  it("frames v1 and 2j as a JSON array, v2 as the list struct", () => {
    expect(frameBody("1", ['{"a":1}', '{"b":2}'])).toBe('[{"a":1},{"b":2}]');
    expect(frameBody("2j", ['{"a":1}'])).toBe('[{"a":1}]');
    expect(frameBody("2", ['{"a":1}', '{"b":2}'])).toBe('{"1":{"lst":["rec",2,{"a":1},{"b":2}]}}');
  });

  it("framedBytes is the exact UTF-8 length of the framed body, for any count", () => {
    for (const version of ["1", "2", "2j"] as CollectorVersion[]) {
      for (const count of [0, 1, 2, 9, 10, 11, 99, 100, 1000]) {
        const payloads = Array.from({ length: count }, (_, i) => JSON.stringify({ i, text: "é✓".repeat(i % 3) }));
        const bytes = payloads.reduce((sum, p) => sum + Buffer.byteLength(p), 0);
        expect(framedBytes(version, count, bytes)).toBe(Buffer.byteLength(frameBody(version, payloads)));
      }
    }
  });

  it("signs with HMAC-SHA256 as key=<name>, mac=<hex>, and gzips losslessly", async () => {
    const body = Buffer.from('[{"x":1}]');
    // Known answer, computed with an unrelated tool: Python's hmac module.
    const key = createSecretKey(Buffer.from("c2VjcmV0", "base64")); // "secret"
    expect(signBody("k", key, body)).toBe(
      "key=k, mac=be0d91c85581c430d2bd56aa45b8a9bc90627fd60ef5f840cc01b00a2b11a236",
    );
    expect(gunzipSync(await gzipBody(body)).equals(body)).toBe(true);
  });
});
