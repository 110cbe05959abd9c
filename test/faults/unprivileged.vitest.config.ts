// The two disk-full tests on their own, as .ci/run runs them a second time as a user who is not
// root (they then mount their tmpfs in a user namespace: test/helpers/tmpfs.ts). They need no
// Datasette, so no global set-up: such a user may not be able to run the project's .venv.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/faults/spool-disk-full.test.ts", "test/faults/spool-small-disk.test.ts"],
    testTimeout: 30_000,
    // The tree belongs to another user: write no results cache into its node_modules.
    cache: false,
  },
});
