import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The tests Stryker runs (stryker.config.mjs): the unit tests of the delivery modules, against
 * loopback stores and SQLite files, without the Datasette and multi-process integration tests
 * (minutes each, and covered by `npm test`). Fast files first: Stryker stops a mutant's run at
 * its first failing test, so a unit test that kills it spares the slow forwarder tests.
 */
const TEST_FILES = [
  "test/delivery-parts.test.ts",
  "test/retry.test.ts",
  "test/collector/wire.test.ts",
  "test/collector/legacy-event.test.ts",
  "test/batch-body.test.ts",
  "test/datasette-errors.test.ts",
  "test/spool-lease.test.ts",
  "test/event-size.test.ts",
  "test/event.test.ts",
  "test/event-text.test.ts",
  "test/one-in-flight.test.ts",
  "test/poison-isolation.test.ts",
  "test/close.test.ts",
  "test/collector/wire-format.test.ts",
  "test/collector/batching.test.ts",
  "test/collector/failures.test.ts",
  "test/forwarder.test.ts",
  "test/failure-policy.test.ts",
  "test/bounded-queue.test.ts",
  "test/spool.test.ts",
];

class ListedOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => TEST_FILES.findIndex((path) => file.moduleId.endsWith(path));
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: TEST_FILES,
    sequence: { sequencer: ListedOrder },
    // The initial run must pass whole, on a busy machine, with the code instrumented: a timing
    // test that a loaded machine fails once gets a second try (a real kill fails both).
    retry: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
