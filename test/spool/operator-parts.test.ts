// What the operator's commands compute on their own, the same for every spool: the kind a drop
// is grouped under (`dead-letters list`), and the age of the oldest event waiting (`status`).
import { describe, expect, it } from "vitest";
import { reasonKind } from "../../src/spool/dead-letters.js";
import { ageOf } from "../../src/spool/status.js";
import { MALFORMED_EVENT } from "../../src/row/row-check.js";

describe("reasonKind", () => {
  it.each([
    [{ answer: `${MALFORMED_EVENT} not JSON`, status: 400 }, "malformed"],
    [{ answer: "gave up after 5 attempts (option maxAttempts)", status: 503 }, "maxAttempts"],
    [{ answer: "gave up after 60000 ms (option retryBudgetMs)", status: 503 }, "retryBudgetMs"],
    [{ answer: "the store ignored the row", status: 200 }, "ignored by the store"],
    [{ answer: "not sent before the close() deadline" }, "closed"],
    [{ answer: "the events never reached it" }, "not kept"],
    [{ answer: "the request got no answer in time" }, "unknown"],
    [{ answer: "Datasette answered HTTP 400: invalid columns", status: 400 }, "HTTP 400"],
    [{ answer: "something else" }, "other"],
  ])("%o is kept under %s", (info, kind) => {
    expect(reasonKind(info)).toBe(kind);
  });

  it("the malformed mark counts only at the start of the answer", () => {
    expect(reasonKind({ answer: `the store said: ${MALFORMED_EVENT}`, status: 400 })).toBe("HTTP 400");
  });
});

describe("ageOf", () => {
  const now = Date.parse("2026-01-01T00:01:00Z");

  it("is the time since the event's created field, as text or as a number", () => {
    expect(ageOf(JSON.stringify({ created: "2026-01-01T00:00:00Z" }), now)).toBe(60_000);
    expect(ageOf(JSON.stringify({ created: now - 5_000 }), now)).toBe(5_000);
  });

  it("is never negative (a clock ahead of this one), and undefined without a readable created time", () => {
    expect(ageOf(JSON.stringify({ created: now + 5_000 }), now)).toBe(0);
    expect(ageOf(JSON.stringify({ created: "not a time" }), now)).toBeUndefined();
    expect(ageOf(JSON.stringify({ created: true }), now)).toBeUndefined();
    expect(ageOf(JSON.stringify({ event: "no created" }), now)).toBeUndefined();
    expect(ageOf("{not json", now)).toBeUndefined();
  });
});
