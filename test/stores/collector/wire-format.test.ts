import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { COLLECTOR_USER_AGENT, FieldKind, LegacyEvent } from "../../../src/collector.js";
import { signatureMatches, useCollector, type Received } from "./collector-server.js";

const RFC_1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const KEY_NAME = "TestKey";

const t = useCollector({ collector: { keyName: KEY_NAME } });

/** Every header of the protocol, checked against the received request on its own terms. */
function expectProtocolHeaders(request: Received, path: string): void {
  expect(request.method).toBe("POST");
  expect(request.path).toBe(path);
  expect(request.headers["content-type"]).toBe("application/json");
  expect(request.headers["content-encoding"]).toBe("gzip");
  expect(request.headers["user-agent"]).toBe(COLLECTOR_USER_AGENT);
  const date = request.headers.date ?? "";
  expect(date).toMatch(RFC_1123);
  expect(Math.abs(Date.parse(date) - request.at)).toBeLessThan(60_000);
  // gzip magic bytes: the body really is compressed.
  expect([...request.raw.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  expect(Number(request.headers["content-length"])).toBe(request.raw.length);
  // Signed over the uncompressed body, not the gzip bytes.
  expect(signatureMatches(request.headers["x-signature"], Buffer.from(request.text, "utf8"), KEY_NAME, t.secret)).toBe(
    true,
  );
  expect(signatureMatches(request.headers["x-signature"], request.raw, KEY_NAME, t.secret)).toBe(false);
}

describe("collector wire format", () => {
  it("version 1: legacy events as a JSON array, signed and gzipped", async () => {
    const events = t.start({ collector: { version: 1 } });
    const first = new LegacyEvent("screenview_events", "cs.screenview", {
      timestamp: new Date("2024-03-05T10:00:00.123Z"),
      id: "6f1c2c55-47b0-4a8e-9a4e-0d2f3c1b9e01",
    });
    first.setField("page", "home").setField("count", 0).setField("empty", "").setField("nothing", null);
    first.setField("ip", "192.0.2.1", FieldKind.OBFUSCATED).setField("session", "s-1", FieldKind.HIGH_CARDINALITY);
    const second = new LegacyEvent("t", "e", {
      timestamp: 1_709_632_800_456.9,
      id: "00000000-0000-4000-8000-000000000002",
    });
    events.put(first);
    events.put(second);
    await events.flush();

    expect(t.collector.requests).toHaveLength(1);
    const request = t.collector.requests[0]!;
    expectProtocolHeaders(request, "/v1");
    expect(request.text).toBe(
      '[{"event_topic":"screenview_events","event_type":"cs.screenview","event_ts":1709632800123,' +
        '"uuid":"6f1c2c55-47b0-4a8e-9a4e-0d2f3c1b9e01","payload":{"page":"home","count":0,' +
        '"obfuscated_data":{"ip":"192.0.2.1"},"interana_excluded":{"session":"s-1"}}},' +
        '{"event_topic":"t","event_type":"e","event_ts":1709632800456,"uuid":"00000000-0000-4000-8000-000000000002","payload":{}}]',
    );
  });

  it('version "2j": events pass through into a JSON array, strings byte for byte', async () => {
    const events = t.start({ collector: { version: "2j" } });
    events.put({ "1": { str: "baseplate" } });
    events.put('{"1": {"str": "spaces kept"}, "2": {"i64": 7}}');
    await events.flush();

    const request = t.collector.requests[0]!;
    expectProtocolHeaders(request, "/v2j");
    expect(request.text).toBe('[{"1":{"str":"baseplate"}},{"1": {"str": "spaces kept"}, "2": {"i64": 7}}]');
  });

  it("version 2, the default (as baseplate's publisher): Thrift-JSON events wrapped in the one-field list struct", async () => {
    const events = t.start();
    events.put({ "1": { str: "baseplate" }, "3": { i64: 1709632800123 } });
    events.put('{"1":{"str":"é ✓"}}');
    events.put({ "2": { str: "third" } });
    await events.flush();

    const request = t.collector.requests[0]!;
    expectProtocolHeaders(request, "/v2");
    expect(request.text).toBe(
      '{"1":{"lst":["rec",3,{"1":{"str":"baseplate"},"3":{"i64":1709632800123}},{"1":{"str":"é ✓"}},{"2":{"str":"third"}}]}}',
    );
    // The mac is over the UTF-8 bytes: recompute it here from the received text.
    const mac = createHmac("sha256", Buffer.from(t.secret, "base64")).update(request.text, "utf8").digest("hex");
    expect(request.headers["x-signature"]).toBe(`key=${KEY_NAME}, mac=${mac}`);
  });

  it("version 2 refuses a LegacyEvent at put(), naming collector.version", () => {
    const events = t.start();
    expect(() => events.put(new LegacyEvent("t", "e"))).toThrow(/set collector\.version to 1/);
  });

  it("option collector.url posts to that URL, taking the version from its path", async () => {
    const forwarder = t.start({ collector: { url: `http://${t.collector.host}/ingest/v2` } });
    forwarder.put({ "1": { str: "x" } });
    await forwarder.flush();
    expectProtocolHeaders(t.collector.requests[0]!, "/ingest/v2");
    expect(t.collector.requests[0]!.text).toBe('{"1":{"lst":["rec",1,{"1":{"str":"x"}}]}}');
  });

  it("a retried batch is sent with the same body and signature", async () => {
    t.collector.respond = (_request, index) => (index === 0 ? { status: 503 } : { status: 200 });
    const forwarder = t.start({ collector: { version: 1 }, backoffBaseMs: 1, backoffMaxMs: 5 });
    forwarder.put(new LegacyEvent("t", "retry"));
    await forwarder.flush();
    expect(t.collector.requests).toHaveLength(2);
    const [first, second] = t.collector.requests as [Received, Received];
    expect(second.raw.equals(first.raw)).toBe(true);
    expect(second.headers["x-signature"]).toBe(first.headers["x-signature"]);
    expectProtocolHeaders(second, "/v1");
  });
});
