import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Makes the Datasette virtualenv once, before any worker starts (test/helpers/datasette-venv.ts).
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration tests start real servers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
