import { describe, expect, it } from "vitest";
import { runToExit } from "../helpers/child.js";
import { startStore } from "../helpers/lifecycle.js";

// Short-lived processes (serverless functions, jobs): `await events.flush()` at the end of each
// invocation delivers everything, whatever the rate limit, and nothing of the package keeps the
// process alive afterwards.
describe("a function-style handler in a short-lived process", () => {
  // A timer of the forwarder that kept the process alive would hold it until killed.
  const runFunction = (env: Record<string, string>) =>
    runToExit(new URL("../fixtures/function-handler.ts", import.meta.url), env);

  // Three invocations of 25 events: 8 batches of 10, where the default rate limit (1 batch per
  // 10 s) would take over a minute; the store answers each batch 100 ms late, so a flush() that
  // returned before the answer would leave the process to exit with batches unconfirmed.
  for (const exit of ["now", "natural"]) {
    it(`delivers every event before the process ends (${exit === "now" ? "ended by the platform right after the last flush()" : "ending on its own"})`, async () => {
      const store = await startStore(() => ({ accept: true, delayMs: 100 }));
      const run = await runFunction({ STORE_URL: store.url(), INVOCATIONS: "3", EVENTS: "25", EXIT: exit });
      expect(run.stderr).toBe("");
      expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
      expect(run.stats).toMatchObject({ sent: 75, queued: 0, dropped: 0 });
      const delivered = store.deliveredRows().map((row) => `${row.properties.invocation}.${row.properties.i}`);
      expect(new Set(delivered).size).toBe(75);
      expect(delivered).toHaveLength(75);
    });
  }
});
