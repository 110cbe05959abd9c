import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIGURATION_DOC, renderConfigurationDoc } from "../../scripts/option-docs.js";
import { KNOWN_OPTIONS } from "../../src/config/resolve.js";

/** Where the options' types are declared: the general ones, and each store's own. */
const SOURCES_OF_OPTION_TYPES = [
  "src/config/options.ts",
  ...readdirSync("src/stores", { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(`src/stores/${entry.name}/options.ts`))
    .map((entry) => `src/stores/${entry.name}/options.ts`),
];

describe("each option declared once", () => {
  it("docs/configuration.md's option tables are the ones the declarations make (npm run docs:options)", () => {
    const page = readFileSync(CONFIGURATION_DOC, "utf8");
    expect(renderConfigurationDoc(page), "docs/configuration.md is out of date: run npm run docs:options").toBe(page);
  });

  it("lists every option eventsForward() knows in docs/configuration.md's tables, once", () => {
    const page = readFileSync(CONFIGURATION_DOC, "utf8");
    const tables = [...page.matchAll(/<!-- options:\w+ -->([\s\S]*?)<!-- \/options:\w+ -->/g)]
      .map((m) => m[1])
      .join("");
    const rows = [...tables.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    for (const option of KNOWN_OPTIONS)
      expect([option, rows.filter((row) => row === option).length]).toEqual([option, 1]);
  });

  it("gives every option's default in its doc comment (an editor's hover text)", () => {
    const documented = new Map<string, string>();
    for (const file of SOURCES_OF_OPTION_TYPES) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\?:/g)) documented.set(m[2]!, m[1]!);
    }
    for (const option of KNOWN_OPTIONS) {
      expect(documented.has(option), `${option} has no doc comment`).toBe(true);
      expect(documented.get(option), `${option}'s doc comment gives no default`).toMatch(/Default: /);
    }
  });
});
