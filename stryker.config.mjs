// Mutation testing (`npm run mutate`): StrykerJS changes the code that decides delivery, one
// small change at a time, and runs the unit tests that cover it; a change no test notices is a
// survivor (see docs/development.md, "Mutation testing"). Not part of `npm test`: it takes minutes.
// One module: `npm run mutate -- --mutate src/pipeline/retry.ts`.

/**
 * The modules that decide whether, when and how an event is delivered: every module of pipeline/
 * and spool/ with code in it (the rest declare types only), and the row and wire code the
 * forwarder's policy reads. The one list to edit.
 */
const DELIVERY_MODULES = [
  "src/pipeline/retry.ts",
  "src/pipeline/rate-limit.ts",
  "src/pipeline/memory-queue.ts",
  "src/pipeline/forwarder.ts",
  "src/pipeline/batch-delivery.ts",
  "src/pipeline/batch-sender.ts",
  "src/pipeline/row-limit.ts",
  "src/pipeline/read-failures.ts",
  "src/pipeline/backlog.ts",
  "src/pipeline/overflow.ts",
  "src/pipeline/stop-signal.ts",
  "src/pipeline/batch-cut.ts",
  "src/pipeline/observer.ts",
  "src/spool/kinds.ts",
  "src/spool/dead-letters.ts",
  "src/spool/status.ts",
  "src/spool/sqlite/kind.ts",
  "src/spool/sqlite/schema.ts",
  "src/spool/sqlite/operate-schema.ts",
  "src/spool/sqlite/outbox.ts",
  "src/spool/sqlite/lease.ts",
  "src/spool/sqlite/spool.ts",
  "src/spool/sqlite/dead-letters.ts",
  "src/spool/sqlite/status.ts",
  "src/spool/redis/kind.ts",
  "src/spool/redis/scripts.ts",
  "src/spool/redis/dead-letter-scripts.ts",
  "src/spool/redis/status-scripts.ts",
  "src/spool/redis/appends.ts",
  "src/spool/redis/spool.ts",
  "src/spool/redis/connection.ts",
  "src/spool/redis/lease.ts",
  "src/spool/redis/rate-window.ts",
  "src/spool/redis/history.ts",
  "src/spool/redis/dead-letters.ts",
  "src/spool/redis/status.ts",
  "src/row/datasette-row.ts",
  "src/row/flat-properties.ts",
  "src/row/number-text.ts",
  "src/stores/datasette/body.ts",
  "src/stores/collector/wire.ts",
];

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  mutate: DELIVERY_MODULES,
  coverageAnalysis: "perTest",
  // Instrumented code is not type-correct; only the source needs the checks turned off.
  disableTypeChecks: "src/**/*.ts",
  concurrency: 2,
  // Past its tests' time in the initial run (x2) plus this, a mutant counts as timed out (an endless
  // loop, a wait that never ends): detected. Room for a busy machine, not so much that each costs minutes.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // tsup.config.bundled_*: a temporary file of a build running at the same time.
  ignorePatterns: [
    ".venv",
    ".venv.lock",
    ".venv-0.65",
    ".venv-0.65.lock",
    "dist",
    "reports",
    "coverage",
    "bench",
    "examples",
    "tsup.config.bundled_*",
  ],
  cleanTempDir: true,
};
