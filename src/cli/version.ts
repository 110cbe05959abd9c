import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The installed package's version: the nearest package.json named events-forward above this file. */
export function packageVersion(): string {
  // Built, this file is dist/cli.js; run from source, src/cli/version.ts: walk up rather than guess.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "events-forward" && typeof manifest.version === "string") return manifest.version;
    } catch {
      // No package.json here (or not readable): look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}
