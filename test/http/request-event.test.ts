import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { onResponseDone } from "../../src/http/request-event.js";

/** What onResponseDone reads of a response, on an emitter it can listen to. */
function response(state: { headersSent: boolean; writableFinished: boolean; statusCode: number }) {
  return Object.assign(new EventEmitter(), state) as unknown as ServerResponse;
}

const facts = { method: "GET", path: "/x", route: () => "/x", startedAt: performance.now() };

describe("onResponseDone", () => {
  it("records once, even when 'close' is emitted again", () => {
    const res = response({ headersSent: true, writableFinished: true, statusCode: 204 });
    const recorded: Record<string, unknown>[] = [];
    onResponseDone(res, facts, (properties) => recorded.push(properties));
    res.emit("close");
    res.emit("close");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ method: "GET", path: "/x", route: "/x", status: 204 });
    expect(recorded[0]).not.toHaveProperty("aborted");
  });

  it("records no status and aborted: true for a response closed before its headers went out", () => {
    const res = response({ headersSent: false, writableFinished: false, statusCode: 200 });
    const recorded: Record<string, unknown>[] = [];
    onResponseDone(res, facts, (properties) => recorded.push(properties));
    res.emit("close");
    expect(recorded).toEqual([expect.objectContaining({ status: null, aborted: true })]);
  });
});
