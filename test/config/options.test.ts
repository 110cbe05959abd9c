import { describe, expect, it } from "vitest";
import { DEFAULTS, eventsForward, OptionError, type EventsForwardOptions } from "../../src/index.js";
import { resolveOptions } from "../../src/config/resolve.js";
import { onCleanup } from "../helpers/lifecycle.js";

const apiUrl = "http://127.0.0.1:9/data/-/create";
const UNSET_VARIABLE = "EVENTS_FORWARD_TEST_SURELY_UNSET";

/** The OptionError eventsForward() throws for these options (the test fails if it throws none). */
function optionError(options: unknown): OptionError {
  try {
    const events = eventsForward(options as EventsForwardOptions);
    onCleanup(() => events.close({ timeoutMs: 10 }));
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
  throw new Error(`eventsForward(${JSON.stringify(options)}) did not throw`);
}

function accepts(options: EventsForwardOptions): void {
  const events = eventsForward({ logger: false, ...options });
  onCleanup(() => events.close({ timeoutMs: 10 }));
}

// [option, bad value, what the message must say]
const badValues: [keyof EventsForwardOptions, unknown, RegExp][] = [
  // No apiUrl is not an error: the events go to the embedded store (test/sqlite-sink.test.ts).
  ["apiUrl", 42, /must be a string/],
  ["apiUrl", "not a url", /not a valid URL/],
  ["apiUrl", "ftp://example.com/data/-/create", /http or https/],
  ["apiUrl", "http://example.com/data", /must end in \/-\/create.*\/-\/insert/],
  ["apiUrl", "http://example.com/data/-/query", /must end in/],
  ["apiToken", "", /empty/],
  ["apiToken", 5, /string or/],
  ["apiToken", { $env: UNSET_VARIABLE }, new RegExp(`${UNSET_VARIABLE} is not set`)],
  ["apiToken", { $env: 5 }, /string or/],
  ["instance", "", /non-empty string/],
  ["instance", 3, /non-empty string/],
  ["table", "", /non-empty string/],
  ["name", "has space", /identifier/],
  ["name", "1st", /identifier/],
  ["name", "", /identifier/],
  ["name", 5, /identifier/],
  ["name", "__proto__", /would replace/],
  ["name", "constructor", /would replace/],
  ["actor", "user.id", /function/],
  ["skip", true, /function/],
  ["requestEvents", "yes", /true or false/],
  ["expressDictionaryMode", "no", /true or false/],
  ["batchLimit", 0, /between 1 and 10000, got 0/],
  ["batchLimit", 10_001, /between 1 and 10000, got 10001/],
  ["batchLimit", 1.5, /whole number/],
  ["batchLimit", "10", /whole number/],
  ["batchLimit", Number.NaN, /whole number/],
  ["maxBatchBytes", 0, /between/],
  ["batchWaitMs", -1, /between/],
  ["maxRate", 0, /between/],
  ["maxRate", 2.5, /whole number/],
  ["timePeriod", -1, /between/],
  ["timePeriod", "10", /must be a number/],
  ["timePeriod", Number.POSITIVE_INFINITY, /must be a number/],
  ["maxAttempts", 0, /between/],
  ["retryBudgetMs", -1, /between/],
  ["backoffBaseMs", -5, /between/],
  ["backoffMaxMs", 1.5, /whole number/],
  ["maxRetryAfterMs", -1, /between/],
  ["requestTimeoutMs", 0, /between/],
  ["maxEventSize", 0, /between/],
  ["maxQueueSize", 0, /between/],
  ["serializer", "json", /function/],
  ["onDrop", {}, /function/],
  ["logger", true, /warn\(\) and error\(\)/],
  ["logger", { warn() {} }, /warn\(\) and error\(\)/],
];

describe("eventsForward() options", () => {
  it.each(badValues)("refuses %s = %o with an OptionError naming the option", (option, value, message) => {
    const options: Record<string, unknown> = { apiUrl, [option]: value };
    if (value === undefined) delete options[option];
    const error = optionError(options);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`option ${option}:`);
    expect(error.message).toMatch(message);
  });

  it.each([
    ["batchlimit", /did you mean batchLimit/],
    ["max_rate", /did you mean maxRate/],
    ["flushInterval", /is not an option/],
  ])("refuses the unknown option %s", (option, message) => {
    const error = optionError({ apiUrl, [option]: 5 });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it.each([undefined, null, "http://example.com/data/-/create"])(
    "refuses %o in place of the options object",
    (options) => {
      expect(optionError(options).option).toBe("options");
    },
  );

  it("never repeats a secret in its errors", () => {
    const error = optionError({ apiUrl: "ftp://user:hunter2@example.com/data/-/create" });
    expect(error.message).not.toContain("hunter2");
    process.env.EVENTS_FORWARD_TEST_SECRET = "s3cret-value";
    onCleanup(async () => delete process.env.EVENTS_FORWARD_TEST_SECRET);
    expect(
      optionError({ apiUrl, apiToken: { $env: "EVENTS_FORWARD_TEST_SECRET" }, batchLimit: 0 }).message,
    ).not.toContain("s3cret-value");
  });

  it("accepts batchLimit up to 10,000 (above Datasette's default max_insert_rows of 100), and the defaults", () => {
    expect(DEFAULTS.batchLimit).toBeLessThanOrEqual(100);
    accepts({ apiUrl, batchLimit: 101 });
    accepts({ apiUrl, batchLimit: 10_000 });
    // The embedded SQLite store takes as many rows a transaction.
    expect(resolveOptions({ batchLimit: 10_000 }).batchLimit).toBe(10_000);
    expect(optionError({ batchLimit: 10_001 }).option).toBe("batchLimit");
    accepts({ apiUrl });
    accepts({ apiUrl: "https://example.com/data/events/-/insert" });
  });

  it("accepts every option it knows, each with a valid value", () => {
    process.env.EVENTS_FORWARD_TEST_TOKEN = "t";
    onCleanup(async () => delete process.env.EVENTS_FORWARD_TEST_TOKEN);
    const every: EventsForwardOptions = {
      apiUrl,
      apiToken: { $env: "EVENTS_FORWARD_TEST_TOKEN" },
      instance: "web-1",
      table: "my_events",
      name: "events_v2",
      actor: () => "a",
      requestEvents: false,
      skip: () => false,
      batchLimit: 50,
      maxBatchBytes: 1000,
      batchWaitMs: 10,
      maxRate: 5,
      timePeriod: 0.5,
      maxAttempts: 2,
      retryBudgetMs: 1000,
      backoffBaseMs: 10,
      backoffMaxMs: 100,
      maxRetryAfterMs: 100,
      requestTimeoutMs: 100,
      maxEventSize: 1000,
      maxQueueSize: 10,
      serializer: () => "{}",
      onDrop: () => {},
      logger: { warn() {}, error() {} },
    };
    const events = eventsForward(every);
    onCleanup(() => events.close({ timeoutMs: 10 }));
    expect(events.contextName).toBe("events_v2");
  });
});
