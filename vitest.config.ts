import { configDefaults, defineConfig } from "vitest/config";
import { DISK_TESTS, diskTestFiles } from "./test/faults/disk-tests.js";

export default defineConfig({
  test: {
    // The disk-full tests run directly as root, else inside a user namespace (test/faults/disk-tests.ts).
    include: ["test/**/*.test.ts", ...diskTestFiles()],
    exclude: [...configDefaults.exclude, ...DISK_TESTS.filter((file) => !diskTestFiles().includes(file))],
    // Makes the Datasette virtualenv once, before any worker starts (test/helpers/datasette-venv.ts).
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration tests start real servers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
