import { describe, expect, it } from "vitest";
import { runToExit } from "../helpers/child.js";
import { startStore } from "../helpers/lifecycle.js";
import { unreachableUrl } from "../helpers/test-store.js";

// No timer of the forwarder keeps the process alive: a child process with a forwarder that has
// work pending (a rate-limit wait, a backoff) must exit on its own, once it drained what waits
// within shutdownTimeoutMs (beforeExit).
describe("process lifetime", () => {
  /** Runs the idle-forwarder fixture; resolves with its exit code, time to exit and final stats. */
  // A forwarder that kept the process alive would hold it for the 60 s windows and backoffs below.
  const runIdleForwarder = (env: Record<string, string>) =>
    runToExit(new URL("../fixtures/idle-forwarder.ts", import.meta.url), env);

  it("when its loop empties while a batch waits for the rate limit window, delivers the rest (beforeExit), then exits on its own", async () => {
    const store = await startStore();
    const options = { apiUrl: store.url(), batchLimit: 1, maxRate: 1, timePeriod: 60 };
    const run = await runIdleForwarder({ FORWARD_OPTIONS: JSON.stringify(options), WAIT_FOR: "sent" });
    expect(run.stderr).toBe("");
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.stats).toMatchObject({ sent: 3, queued: 0, dropped: 0 });
    expect(store.events()).toEqual(["e0", "e1", "e2"]);
    expect(run.ms).toBeLessThan(15_000);
  });

  it("when its loop empties while the store is unreachable or backing off after a 500, drains until shutdownTimeoutMs, logs the count it could not deliver, and exits on its own", async () => {
    const failing = await startStore(() => ({ status: 500 }));
    const runs = await Promise.all([
      runIdleForwarder({
        FORWARD_OPTIONS: JSON.stringify({
          apiUrl: await unreachableUrl(),
          backoffBaseMs: 60_000,
          shutdownTimeoutMs: 300,
        }),
        WAIT_FOR: "failedRequests",
        LOGGER: "console",
      }),
      runIdleForwarder({
        FORWARD_OPTIONS: JSON.stringify({ apiUrl: failing.url(), backoffBaseMs: 60_000, shutdownTimeoutMs: 300 }),
        WAIT_FOR: "failedRequests",
        LOGGER: "console",
      }),
    ]);
    for (const run of runs) {
      expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
      expect(run.stats).toMatchObject({ failedRequests: 1, queued: 0, dropped: 3, sent: 0 });
      expect(run.stderr).toMatch(/dropped 3 event\(s\) for .*closed before they were delivered/);
    }
    // Backing off for a minute: the deadline came first, so one request only.
    expect(failing.requests).toHaveLength(1);
  });

  it("stays alive for an awaited close() until its deadline, then exits normally", async () => {
    // A top-level `await events.close()` must finish (Node exits with code 13 when a top-level
    // await is left pending because nothing keeps the process alive).
    const run = await runIdleForwarder({
      FORWARD_OPTIONS: JSON.stringify({ apiUrl: await unreachableUrl(), backoffBaseMs: 60_000 }),
      WAIT_FOR: "failedRequests",
      CLOSE_TIMEOUT_MS: "300",
    });
    expect(run.stderr).toBe("");
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.stats).toMatchObject({ closed: { delivered: 0, undelivered: 3 } });
  });
});
