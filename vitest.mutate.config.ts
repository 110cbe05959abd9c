import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs (stryker.config.mjs): the unit tests of the delivery modules, against
 * loopback stores and SQLite files, without the Datasette and multi-process integration tests
 * (minutes each, and covered by `npm test`).
 */
export default defineConfig({
  test: {
    include: [
      "test/retry.test.ts",
      "test/forwarder.test.ts",
      "test/failure-policy.test.ts",
      "test/one-in-flight.test.ts",
      "test/bounded-queue.test.ts",
      "test/poison-isolation.test.ts",
      "test/close.test.ts",
      "test/batch-body.test.ts",
      "test/event.test.ts",
      "test/event-text.test.ts",
      "test/datasette-errors.test.ts",
      "test/spool.test.ts",
      "test/spool-lease.test.ts",
      "test/collector/wire.test.ts",
      "test/collector/wire-format.test.ts",
      "test/collector/batching.test.ts",
      "test/collector/failures.test.ts",
      "test/collector/legacy-event.test.ts",
      "test/delivery-parts.test.ts",
      "test/event-size.test.ts",
    ],
    // The initial run must pass whole, on a busy machine, with the code instrumented: a timing
    // test that a loaded machine fails once gets a second try (a real kill fails both).
    retry: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
