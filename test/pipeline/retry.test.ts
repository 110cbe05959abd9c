import { describe, expect, test } from "vitest";
import {
  answerOf,
  backoffDelay,
  classifyError,
  classifyStatus,
  parseRetryAfter,
  sameAnswer,
} from "../../src/pipeline/retry.js";

const NOW = Date.parse("2025-01-01T00:00:00Z");

describe("classifyStatus", () => {
  test.each([408, 429, 500, 502, 503, 504, 507, 599])("%i is retried", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").retry).toBe(true);
  });

  test.each([400, 404, 409, 413, 422, 501, 505, 302])("%i is not retried", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").retry).toBe(false);
  });

  test.each([501, 505, 500, 599])(
    "%i is retried with retryEvery5xx (the collector, as baseplate's publisher)",
    (status) => {
      expect(classifyStatus(status, "3", NOW, "r", true)).toMatchObject({ retry: true, retryAfterMs: 3000 });
    },
  );

  test.each([400, 404, 422])("%i is still not retried with retryEvery5xx", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r", true).retry).toBe(false);
  });

  test.each([400, 413, 422])("%i rejects the content: the batch can be split", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").splittable).toBe(true);
  });

  test.each([401, 403, 404, 500, 503])("%i cannot be fixed by splitting", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").splittable).toBe(false);
  });

  test.each([429, 502, 503, 504])("%i: the store is away: the batch is held without using attempts", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").unreachable).toBe(true);
  });

  test.each([401, 403])("%i refuses the sender: held (retried), not dropped", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r")).toMatchObject({ retry: true, refused: true });
  });

  test("a store names its own refusals: Datasette's 404 (no table yet) is one", () => {
    expect(classifyStatus(404, undefined, NOW, "r", false, [401, 403, 404])).toMatchObject({
      retry: true,
      refused: true,
    });
    expect(classifyStatus(404, undefined, NOW, "r").refused).toBeUndefined();
  });

  test.each([408, 500, 507])("%i may concern the batch: it uses an attempt", (status) => {
    expect(classifyStatus(status, undefined, NOW, "r").unreachable).toBe(false);
  });

  test("Retry-After is read for retried statuses only", () => {
    expect(classifyStatus(429, "7", NOW, "r").retryAfterMs).toBe(7000);
    expect(classifyStatus(503, "7", NOW, "r").retryAfterMs).toBe(7000);
    expect(classifyStatus(400, "7", NOW, "r").retryAfterMs).toBeUndefined();
  });

  test("keeps the status and the reason", () => {
    expect(classifyStatus(500, undefined, NOW, "boom")).toMatchObject({ ok: false, status: 500, reason: "boom" });
  });
});

describe("classifyError", () => {
  test("a timeout is retried and uses an attempt (the store may have written the rows)", () => {
    const failure = classifyError(new Error("aborted"), true);
    expect(failure).toMatchObject({ retry: true, reason: expect.stringContaining("timed out") });
    expect(failure.unreachable).toBeFalsy();
  });

  test.each(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"])(
    "%s: nothing reached the store, the batch is held",
    (code) => {
      expect(classifyError(Object.assign(new Error("x"), { code }), false)).toMatchObject({
        retry: true,
        unreachable: true,
      });
      // undici wraps some socket errors: the code is on the cause.
      expect(classifyError(Object.assign(new Error("x"), { cause: { code } }), false)).toMatchObject({
        unreachable: true,
      });
    },
  );

  test.each(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE", undefined])(
    "%s: retried, may have been written, uses an attempt",
    (code) => {
      const failure = classifyError(Object.assign(new Error("other side closed"), { code }), false);
      expect(failure).toMatchObject({ retry: true, unreachable: false });
      expect(failure.reason).toContain("other side closed");
    },
  );

  test("the reason names the code when there is one", () => {
    expect(classifyError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), false).reason).toBe(
      "network error ECONNREFUSED: refused",
    );
    expect(classifyError(new Error("other side closed"), false).reason).toBe("network error: other side closed");
  });

  test("a thrown non-Error still gives a reason", () => {
    expect(classifyError("weird", false).reason).toContain("weird");
    expect(classifyError(undefined, false).reason).toContain("undefined");
  });
});

describe("parseRetryAfter", () => {
  test("delay-seconds", () => {
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter(" 3 ", NOW)).toBe(3000);
  });

  test("the three HTTP-date forms, read as GMT", () => {
    const later = NOW + 90_000; // 2025-01-01T00:01:30Z, a Wednesday
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:01:30 GMT", NOW)).toBe(90_000);
    expect(parseRetryAfter("Wednesday, 01-Jan-25 00:01:30 GMT", NOW)).toBe(later - NOW);
    expect(parseRetryAfter("Wed Jan  1 00:01:30 2025", NOW)).toBe(90_000);
    expect(parseRetryAfter("Thu Jan 16 00:00:00 2025", NOW)).toBe(15 * 86_400_000); // asctime, two-digit day
  });

  test("a date in the past means now", () => {
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", NOW)).toBe(0);
  });

  test.each([
    "",
    "  ",
    "-5",
    "1.5",
    "Jan 2099",
    "2099-01-01",
    "soon",
    "5s",
    "Wed, 01 Jan 2025 00:01:30",
    "xWed Jan  1 00:01:30 2025",
    "Wed Jan  1 00:01:30 2025 +0100",
    "xWed, 01 Jan 2025 00:01:30 GMT",
    "Wed, 01 Jan 2025 00:01:30 GMT+0100",
    "xWednesday, 01-Jan-25 00:01:30 GMT",
    "Wednesday, 01-Jan-25 00:01:30 GMT+0100",
    "1e3",
    "0x10",
    "Infinity",
    "9".repeat(40),
  ])("%j is ignored", (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  test("absent", () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  test("doubles with each attempt, half fixed and half random", () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(2, 100, 10_000, () => 0)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(300);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
  });

  test("is capped by maxMs", () => {
    expect(backoffDelay(30, 100, 1_000, () => 1)).toBe(1_000);
    expect(backoffDelay(30, 100, 1_000, () => 0)).toBe(500);
    expect(backoffDelay(5000, 100, 1_000, () => 1)).toBe(1_000);
  });

  test("with the real random source it stays in [step/2, step]", () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3, 100, 10_000);
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });

  test("attempt 0 or below behaves as the first", () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
  });
});

describe("answerOf: a failure in a few words (stats().holding, status)", () => {
  test("the HTTP status when there was one, else the reason up to its first colon", () => {
    expect(answerOf({ ok: false, retry: false, status: 401, reason: "HTTP 401: the token is not accepted" })).toBe(
      "HTTP 401",
    );
    expect(answerOf({ ok: false, retry: true, reason: "network error ECONNREFUSED: connect ECONNREFUSED" })).toBe(
      "network error ECONNREFUSED",
    );
    expect(answerOf({ ok: false, retry: true, reason: "the request timed out" })).toBe("the request timed out");
  });
});

describe("sameAnswer: whether two failures are the store's same answer", () => {
  test("the same status and words, whatever the sender added when it gave up", () => {
    const a = { ok: false as const, retry: false, status: 400, reason: "HTTP 400: bad row" };
    expect(sameAnswer(a, { ...a, reason: "HTTP 400: bad row (gave up after 3 attempts)" })).toBe(true);
    expect(sameAnswer(a, { ...a, reason: "HTTP 400: another row" })).toBe(false);
    expect(sameAnswer(a, { ...a, status: 422 })).toBe(false);
    // Only the sender's own ending is set aside, not the same words inside the store's answer.
    const later = { ...a, reason: "HTTP 400: bad row later" };
    expect(sameAnswer(later, { ...a, reason: "HTTP 400: bad row (gave up after 3 attempts) later" })).toBe(false);
  });
});

describe("classifyError without a code", () => {
  test("an error with no code is not known to have missed the store: not unreachable", () => {
    expect(classifyError(new Error("socket hang up"), false)).toMatchObject({ retry: true, unreachable: false });
  });
});
