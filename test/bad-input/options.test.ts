// Wrong types and absurd values for every option: each fails in eventsForward() with an
// OptionError that names the option, and a valid forwarder next to it is unaffected.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventsForward, OptionError, type EventsForwardOptions } from "../../src/index.js";
import { KNOWN_OPTIONS } from "../../src/config/resolve.js";
import { forwardTo, type Harness } from "../helpers/forward-to.js";
import { TestStore } from "../helpers/test-store.js";

let store: TestStore;

beforeAll(async () => {
  store = await new TestStore().start();
});

afterAll(async () => {
  await store.stop();
});

function failure(options: Record<string, unknown>): OptionError {
  try {
    const events = eventsForward({ apiUrl: store.url(), logger: false, ...options } as EventsForwardOptions);
    void events.close();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error(`accepted ${String(Object.keys(options))}`);
}

const NOT_A_NUMBER = ["10", null, {}, [], true, Number.NaN, Number.POSITIVE_INFINITY];
const NOT_A_WHOLE_NUMBER = [...NOT_A_NUMBER, 1.5, -1, 1e300];
const NOT_A_STRING = [42, "", null, {}, [], true];
const NOT_A_FUNCTION = ["() => 1", 1, {}, [], true, null];
const NOT_A_BOOLEAN = ["true", 1, 0, null, {}, "false"];

/** Wrong values for each option, beyond the Symbol and BigInt every option gets. */
const WRONG: Record<string, unknown[]> = {
  apiUrl: [
    42,
    "",
    "not a url",
    "ftp://h/db/-/create",
    "https://h/db",
    "https://h/db/-/query",
    "javascript:alert(1)//-/create",
    null,
    {},
  ],
  apiToken: [42, "", null, {}, { $env: 42 }, { $env: "EVENTS_FORWARD_NO_SUCH_VARIABLE" }, ["a"]],
  instance: NOT_A_STRING,
  table: NOT_A_STRING,
  name: ["", "1abc", "has space", "a-b", "__proto__", "constructor", 42, null],
  actor: NOT_A_FUNCTION,
  requestEvents: NOT_A_BOOLEAN,
  skip: NOT_A_FUNCTION,
  batchLimit: [...NOT_A_WHOLE_NUMBER, 0, 10_001],
  maxBatchBytes: [...NOT_A_WHOLE_NUMBER, 0],
  batchWaitMs: [...NOT_A_WHOLE_NUMBER, 3_600_001],
  maxRate: [...NOT_A_WHOLE_NUMBER, 0],
  timePeriod: [...NOT_A_NUMBER, -1, 86_401],
  maxAttempts: [...NOT_A_WHOLE_NUMBER, 0],
  retryBudgetMs: NOT_A_WHOLE_NUMBER,
  backoffBaseMs: [...NOT_A_WHOLE_NUMBER, 3_600_001],
  backoffMaxMs: [...NOT_A_WHOLE_NUMBER, 3_600_001],
  maxRetryAfterMs: [...NOT_A_WHOLE_NUMBER, 86_400_001],
  requestTimeoutMs: [...NOT_A_WHOLE_NUMBER, 0],
  maxEventSize: [...NOT_A_WHOLE_NUMBER, 0],
  maxQueueSize: [...NOT_A_WHOLE_NUMBER, 0],
  maxQueueBytes: [...NOT_A_WHOLE_NUMBER, 0, 1000 /* under maxEventSize */],
  serializer: NOT_A_FUNCTION,
  onDrop: NOT_A_FUNCTION,
  logger: [true, null, {}, { warn: () => {} }, { warn: 1, error: 1 }, console.log, "console"],
  allowInsecureHttp: NOT_A_BOOLEAN,
  shutdownSignals: ["SIGTERM", ["SIGKILL"], ["SIGSTOP"], [1], ["sigterm"], {}, null, 1],
  shutdownTimeoutMs: [...NOT_A_WHOLE_NUMBER, 3_600_001],
  captureHeaders: ["user-agent", [1], [""], ["bad header"], ["a\nb"], ["x:y"], [null], {}, null, ["Cookie"]],
  clientIpKey: ["short", "", 42, null, {}, { $env: "EVENTS_FORWARD_NO_SUCH_VARIABLE" }],
};

describe("every option, wrong", () => {
  test("every known option has wrong values here", () => {
    // An option added without bad-input cases still gets the Symbol and BigInt checks below.
    expect(Object.keys(WRONG).filter((key) => !KNOWN_OPTIONS.has(key))).toEqual([]);
  });

  const cases = [...KNOWN_OPTIONS].flatMap((option) =>
    [Symbol("wrong"), 10n, ...(WRONG[option] ?? [])].map((value) => [option, value] as const),
  );
  test(`${cases.length} wrong values, each an OptionError naming its option`, () => {
    for (const [option, value] of cases) {
      let error: OptionError;
      try {
        error = failure({ [option]: value });
      } catch (e) {
        throw new Error(
          `${option} = ${typeof value === "symbol" ? "Symbol" : JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}: ${(e as Error).message}`,
        );
      }
      expect.soft(error.option, `${option} = ${String(typeof value === "symbol" ? "Symbol" : value)}`).toBe(option);
    }
  });
});

describe("the options object itself", () => {
  test.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "https://h/db/-/create"],
    ["a number", 1],
    ["an array", [{ apiUrl: "https://h/db/-/create" }]],
  ])("%s: OptionError", (_, value) => {
    expect(() => eventsForward(value as never)).toThrow(OptionError);
  });

  test("an unknown option: OptionError that suggests the right name", () => {
    const error = failure({ batch_limit: 5 });
    expect(error.option).toBe("batch_limit");
    expect(error.message).toContain("did you mean batchLimit?");
  });

  test("__proto__ as an own key (from JSON.parse): refused, nothing polluted", () => {
    const parsed = JSON.parse(`{"apiUrl": "${store.url()}", "__proto__": {"polluted": true}}`) as Record<
      string,
      unknown
    >;
    expect(failure(parsed).option).toBe("__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("a getter that throws: OptionError, not the getter's error", () => {
    const options = { apiUrl: store.url(), logger: false as const };
    Object.defineProperty(options, "batchLimit", {
      get: () => {
        throw new Error("boom");
      },
      enumerable: true,
    });
    expect(() => eventsForward(options)).toThrow(OptionError);
  });

  test("an error never quotes a secret it was given", () => {
    const secret = "dstok_option-secret-value";
    const messages = [
      failure({ apiToken: secret, apiUrl: "http://example.com/db/-/create" }).message,
      failure({ clientIpKey: "short-secret" }).message,
      failure({ apiToken: secret, batchLimit: "x" }).message,
    ];
    for (const message of messages) {
      expect(message).not.toContain(secret);
      expect(message).not.toContain("short-secret");
    }
  });
});

describe("close() with wrong arguments", () => {
  let h: Harness;
  beforeAll(() => {
    h = forwardTo(store);
  });

  test.each([
    ["a string", { timeoutMs: "5" }],
    ["negative", { timeoutMs: -1 }],
    ["NaN", { timeoutMs: Number.NaN }],
    ["too long", { timeoutMs: 2 ** 31 }],
  ])("%s timeoutMs: rejected with an OptionError, and the forwarder stays open", async (_, options) => {
    await expect(h.events.close(options as never)).rejects.toThrow(OptionError);
    h.events.put({ event: "still-open" });
  });

  test("then a correct close() works, and delivers what was put", async () => {
    expect(await h.events.close({ timeoutMs: 1_000 })).toEqual({ delivered: 4, undelivered: 0 });
  });
});

test("a valid forwarder next to all those failures works", async () => {
  const h = forwardTo(store);
  h.events.put({ event: "fine" });
  await h.events.flush();
  expect(store.events()).toContain("fine");
  await h.events.close();
});
