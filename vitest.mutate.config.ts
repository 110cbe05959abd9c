import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The tests Stryker runs (stryker.config.mjs): the unit tests of the delivery modules, against
 * loopback stores, SQLite files and a real redis-server, without the Datasette and multi-process integration tests
 * (minutes each, and covered by `npm test`). Fast files first: Stryker stops a mutant's run at
 * its first failing test, so a unit test that kills it spares the slow forwarder tests.
 */
const TEST_FILES = [
  "test/pipeline/observer.test.ts",
  "test/pipeline/delivery-parts.test.ts",
  "test/pipeline/episode-parts.test.ts",
  "test/spool/operator-parts.test.ts",
  "test/pipeline/retry.test.ts",
  "test/stores/collector/wire.test.ts",
  "test/stores/collector/legacy-event.test.ts",
  "test/stores/datasette/batch-body.test.ts",
  "test/row/number-text.test.ts",
  "test/stores/datasette/datasette-errors.test.ts",
  "test/spool/sqlite-lease.test.ts",
  "test/spool/sqlite-status.test.ts",
  "test/pipeline/batch-sender.test.ts",
  "test/row/event-size.test.ts",
  "test/pipeline/queue-contract.test.ts",
  "test/row/event.test.ts",
  "test/row/event-text.test.ts",
  "test/pipeline/one-in-flight.test.ts",
  "test/pipeline/poison-isolation.test.ts",
  "test/pipeline/close.test.ts",
  "test/pipeline/forwarder-stop.test.ts",
  "test/pipeline/forwarder-turns.test.ts",
  "test/pipeline/row-check.test.ts",
  "test/pipeline/halving.test.ts",
  "test/pipeline/forwarder-parts.test.ts",
  "test/pipeline/backlog.test.ts",
  "test/pipeline/rate-slot.test.ts",
  "test/stores/collector/wire-format.test.ts",
  "test/stores/collector/batching.test.ts",
  "test/stores/collector/failures.test.ts",
  "test/pipeline/forwarder.test.ts",
  "test/pipeline/failure-policy.test.ts",
  "test/pipeline/bounded-queue.test.ts",
  "test/spool/sqlite-spool-unwritable.test.ts",
  "test/spool/sqlite-spool-parts.test.ts",
  "test/spool/sqlite-spool.test.ts",
  "test/spool/dead-letters.test.ts",
  "test/spool/queue-kinds.test.ts",
  // The Redis spool's, against a real redis-server (one a file): its parts on their own first.
  "test/spool/redis-lease.test.ts",
  "test/spool/outbox-history.test.ts",
  "test/spool/dead-letter-store.test.ts",
  "test/spool/redis-status.test.ts",
  "test/spool/redis-connection.test.ts",
  "test/spool/redis-cluster-connection.test.ts",
  "test/spool/redis-options.test.ts",
  "test/spool/redis-scripts.test.ts",
  "test/spool/two-holders.test.ts",
  "test/spool/redis-dead-letters.test.ts",
  "test/spool/redis-history.test.ts",
  "test/spool/redis-spool.test.ts",
  "test/spool/redis-appends.test.ts",
  "test/spool/redis-spool-parts.test.ts",
  "test/faults/spool-read-failure.test.ts",
  "test/pipeline/close-deadline.test.ts",
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
