import { configDefaults, defineConfig } from "vitest/config";
import { DISK_TESTS, diskTestFiles } from "./test/faults/disk-tests.js";
import { secondSqliteDriver, SQLITE_DRIVER_ENV, sqliteTestFiles } from "./test/helpers/sqlite-drivers.js";

const second = secondSqliteDriver();

export default defineConfig({
  test: {
    // Makes the Datasette virtualenv once, before any worker starts (test/helpers/datasette-venv.ts).
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration tests start real servers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
    // Where this Node has two SQLite drivers (Node 22 and 24), the SQLite tests run on the other
    // one too (test/helpers/sqlite-drivers.ts). `include` is set per project: a project that
    // extends this config would add its own to one set here, not replace it.
    projects: [
      {
        extends: true,
        test: {
          name: "all",
          // The disk-full tests run directly as root, else inside a user namespace (test/faults/disk-tests.ts).
          include: ["test/**/*.test.ts", ...diskTestFiles()],
          // test/runtimes runs on Bun, Deno and workerd: `npm run test:runtimes`, its own config.
          exclude: [
            ...configDefaults.exclude,
            "test/runtimes/**",
            ...DISK_TESTS.filter((file) => !diskTestFiles().includes(file)),
          ],
        },
      },
      ...(second === undefined
        ? []
        : [
            { extends: true, test: { name: second, include: sqliteTestFiles(), env: { [SQLITE_DRIVER_ENV]: second } } },
          ]),
    ],
  },
});
