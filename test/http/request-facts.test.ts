import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { createRecorder } from "../../src/http/request-recorder.js";
import { requestIdOf } from "../../src/http/request-facts.js";
import type { PutTarget } from "../../src/http/request-context.js";

/** What the recorder reads of a response, on an emitter it can listen to. */
function response(state: { headersSent: boolean; writableFinished: boolean; statusCode: number }) {
  return Object.assign(new EventEmitter(), state) as unknown as ServerResponse;
}

const req = { method: "GET", url: "/x?q=1", headers: {}, socket: {} } as unknown as IncomingMessage;

/** A recorder whose events land in an array (the request event's properties). */
function recording() {
  const recorded: Record<string, unknown>[] = [];
  const target: PutTarget = {
    putWithMeta: (event) => recorded.push((event as { properties: Record<string, unknown> }).properties),
  };
  const recorder = createRecorder(target, {
    name: "events",
    actor: () => undefined,
    requestEvents: true,
    requestPath: "path",
    captureHeaders: [],
    logger: { warn() {}, error() {} },
  });
  return { recorder, recorded };
}

describe("the request event when the response is done", () => {
  it("records once, even when 'close' is emitted again", () => {
    const { recorder, recorded } = recording();
    const res = response({ headersSent: true, writableFinished: true, statusCode: 204 });
    recorder.attach({}, req, res, () => "/x");
    res.emit("close");
    res.emit("close");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ method: "GET", path: "/x", route: "/x", status: 204 });
    expect(recorded[0]).not.toHaveProperty("aborted");
  });

  it("records no status and aborted: true for a response closed before its headers went out", () => {
    const { recorder, recorded } = recording();
    const res = response({ headersSent: false, writableFinished: false, statusCode: 200 });
    recorder.attach({}, req, res, () => undefined);
    res.emit("close");
    expect(recorded).toEqual([expect.objectContaining({ status: null, aborted: true })]);
  });

  it("records once when a framework ends it twice (Fastify's onRequestAbort, then onResponse)", () => {
    const { recorder, recorded } = recording();
    const inFlight = recorder.begin({}, req, () => undefined)!;
    recorder.end(inFlight, null, true);
    recorder.end(inFlight, 200, false);
    expect(recorded).toEqual([expect.objectContaining({ status: null, aborted: true })]);
  });
});

describe("the request id", () => {
  // The row writer takes a request context's id as plain JSON text (no escaping, one byte a
  // character) without scanning it: every id requestIdOf() gives must be that.
  it("is plain JSON text, whatever X-Request-Id the client sends", () => {
    const taken: string[] = [];
    for (let code = 0; code < 256; code++) {
      const sent = `id${String.fromCharCode(code)}x`;
      const id = requestIdOf({ headers: { "x-request-id": sent } } as unknown as IncomingMessage);
      expect(JSON.stringify(id)).toBe(`"${id}"`);
      expect(/^[\x20-\x7e]+$/.test(id)).toBe(true);
      if (id === sent) taken.push(String.fromCharCode(code));
    }
    // Sane ids are kept as sent (and the rest replaced by a ULID).
    expect(taken.join("")).toBe("+-./0123456789:=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
    expect(requestIdOf({ headers: {} } as unknown as IncomingMessage)).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
