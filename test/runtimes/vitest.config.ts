// The package on other runtimes (Bun, Deno, Cloudflare Workers through workerd), installed from
// npm into test/runtimes/node_modules: `npm run test:runtimes` (which installs them and builds
// dist/ first, since the apps import the built package). .ci/run runs it after the Node suite.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/runtimes/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
