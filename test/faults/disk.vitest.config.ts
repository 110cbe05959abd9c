// The two disk-full tests on their own: `npx vitest run --configLoader runner --config
// test/faults/disk.vitest.config.ts`. .ci/run runs them so a second time, as a user who is not
// root; the user-namespace runner runs them so inside the namespace. They need no Datasette, so
// no global set-up (such a user may not be able to run the project's .venv).
import { defineConfig } from "vitest/config";
import { diskTestFiles } from "./disk-tests.js";

export default defineConfig({
  test: {
    include: diskTestFiles(),
    testTimeout: 30_000,
    // The tree may belong to another user: write no results cache into its node_modules.
    cache: false,
  },
});
