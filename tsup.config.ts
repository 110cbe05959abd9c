import { cpSync } from "node:fs";
import { defineConfig } from "tsup";

// Two builds that share dist/ and run in parallel, so each cleans only its own files.
export default defineConfig([
  {
    // The library: ESM and CommonJS, with type declarations for both.
    entry: { index: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    clean: ["!cli.*"],
    sourcemap: true,
    target: "node20",
    shims: true,
    // Keep "node:crypto", not "crypto": Workers (nodejs_compat) and Deno resolve builtins by that prefix.
    removeNodeProtocol: false,
    // Bundled: one file to parse instead of a package of six modules to resolve at import (cold start).
    noExternal: ["async-mutex"],
  },
  {
    // The `events-forward` bin: ESM only (package.json's bin is dist/cli.js), no declarations.
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    clean: ["!index.*"],
    sourcemap: true,
    target: "node20",
    removeNodeProtocol: false,
    noExternal: ["async-mutex"],
    // `events-forward dashboard` copies its page, script and stylesheet from here (src/dashboard/files.ts).
    onSuccess: async () => cpSync("src/dashboard/assets", "dist/dashboard-assets", { recursive: true }),
  },
]);
