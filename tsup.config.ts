import { cpSync } from "node:fs";
import { defineConfig } from "tsup";

// Two builds that share dist/ and run in parallel, so each cleans only its own files.
export default defineConfig([
  {
    // The library's three entry points (package.json's exports): ESM and CommonJS, with type
    // declarations for both. Splitting in CommonJS too, so the entries share one copy of the code
    // they have in common (one LegacyEvent class, one EventError) in each format.
    entry: { index: "src/index.ts", collector: "src/collector.ts", diagnostics: "src/diagnostics.ts" },
    format: ["esm", "cjs"],
    splitting: true,
    dts: true,
    clean: ["!cli.*", "!dashboard-assets", "!dashboard-assets/**"],
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
    // Cleans nothing: the library's build cleans dist/ but for cli.*.
    clean: false,
    sourcemap: true,
    target: "node20",
    removeNodeProtocol: false,
    noExternal: ["async-mutex"],
    // `events-forward dashboard` copies its page, script and stylesheet from here (src/dashboard/files.ts).
    onSuccess: async () => cpSync("src/dashboard/assets", "dist/dashboard-assets", { recursive: true }),
  },
]);
