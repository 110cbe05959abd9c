/**
 * docs/configuration.md's option tables, made from where each option is declared (the general
 * table, config/option-table.ts, and each store's own, stores/<store>/options.ts, reached through
 * STORE_KINDS). `npm run docs:options` rewrites them; test/config/options-doc.test.ts fails when
 * the page is out of date.
 *
 * Each table sits between `<!-- options:GROUP -->` and `<!-- /options:GROUP -->`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OPTION_GROUPS, type OptionDeclaration } from "../src/core/option-spec.js";
import { GENERAL_OPTIONS } from "../src/config/option-table.js";
import { storeKinds } from "../src/stores/table.js";

export const CONFIGURATION_DOC = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));

/** Every declared option, the stores' own first (in STORE_KINDS's order), then the general table's. */
function declarations(): [string, OptionDeclaration][] {
  return [...storeKinds().flatMap(([, kind]) => Object.entries(kind.options)), ...Object.entries(GENERAL_OPTIONS)];
}

/** The table of one group, as markdown. */
export function optionTable(group: keyof typeof OPTION_GROUPS): string {
  const rows = declarations()
    .filter(([, spec]) => spec.doc.group === group)
    .map(([name, { doc }]) => `| \`${name}\` | ${doc.default} | ${doc.range} | ${doc.meaning} |`);
  return ["| option | default | range / values | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** The page with every marked table made again from the declarations. */
export function renderConfigurationDoc(markdown: string): string {
  let text = markdown;
  for (const group of Object.keys(OPTION_GROUPS) as (keyof typeof OPTION_GROUPS)[]) {
    const open = `<!-- options:${group} -->`;
    const close = `<!-- /options:${group} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start === -1 || end < start) throw new Error(`docs/configuration.md has no ${open} ... ${close}`);
    text = `${text.slice(0, start + open.length)}\n${optionTable(group)}\n${text.slice(end)}`;
  }
  return text;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = readFileSync(CONFIGURATION_DOC, "utf8");
  const after = renderConfigurationDoc(before);
  if (after !== before) writeFileSync(CONFIGURATION_DOC, after);
  console.log(
    after === before ? "docs/configuration.md: up to date" : "docs/configuration.md: option tables rewritten",
  );
}
