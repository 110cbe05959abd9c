/**
 * docs/development.md's table of mutation scores, from Stryker's JSON report
 * (reports/mutation/mutation.json, written by `npm run mutate`). `npm run docs:mutation [report]`
 * rewrites the rows of the modules the report holds and keeps the others: a run usually covers a
 * few modules, so the table is the latest measurement of each. Without a report it changes nothing.
 *
 * The table sits between `<!-- mutation-table -->` and `<!-- /mutation-table -->`.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEVELOPMENT_DOC = fileURLToPath(new URL("../docs/development.md", import.meta.url));
const DEFAULT_REPORT = fileURLToPath(new URL("../reports/mutation/mutation.json", import.meta.url));
const OPEN = "<!-- mutation-table -->";
const CLOSE = "<!-- /mutation-table -->";
const HEADER = [
  "| Module | Mutants | Killed | Timed out | Survived | No coverage | Score | Measured |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
];

/** Stryker's mutation-testing-report-schema, the parts read here. */
export interface MutationReport {
  files: Record<string, { mutants: { status: string }[] }>;
}

/** One module's row: its path (as the report names it, relative to the project) and its cells. */
export type Row = [module: string, cells: string];

/** The rows of one report: counts by status, the score as Stryker computes it (detected / valid). */
export function rowsFromReport(report: MutationReport, measured: string): Row[] {
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const count = (status: string) => mutants.filter((mutant) => mutant.status === status).length;
    const [killed, timedOut, survived, noCoverage] = ["Killed", "Timeout", "Survived", "NoCoverage"].map(count);
    const valid = killed! + timedOut! + survived! + noCoverage!;
    const score = valid === 0 ? "–" : `${(((killed! + timedOut!) / valid) * 100).toFixed(1)}%`;
    return [file, `${valid} | ${killed} | ${timedOut} | ${survived} | ${noCoverage} | ${score} | ${measured}`];
  });
}

/** The rows now in the page's table. */
export function rowsInPage(markdown: string): Row[] {
  const start = markdown.indexOf(OPEN);
  const end = markdown.indexOf(CLOSE);
  if (start === -1 || end < start) throw new Error(`docs/development.md has no ${OPEN} ... ${CLOSE}`);
  return [...markdown.slice(start, end).matchAll(/^\| `([^`]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]);
}

/** The page with the report's modules measured anew, the others kept, sorted by path. */
export function renderDevelopmentDoc(markdown: string, fresh: Row[]): string {
  const rows = new Map(rowsInPage(markdown));
  for (const [module, cells] of fresh) rows.set(module, cells);
  const table = [...rows]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, cells]) => `| \`${module}\` | ${cells} |`);
  const start = markdown.indexOf(OPEN) + OPEN.length;
  return `${markdown.slice(0, start)}\n${[...HEADER, ...table].join("\n")}\n${markdown.slice(markdown.indexOf(CLOSE))}`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reportPath = process.argv[2] ?? DEFAULT_REPORT;
  const before = readFileSync(DEVELOPMENT_DOC, "utf8");
  if (!existsSync(reportPath)) {
    console.log(`${reportPath}: no report (run npm run mutate first); docs/development.md unchanged`);
  } else {
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as MutationReport;
    const measured = statSync(reportPath).mtime.toISOString().slice(0, 10);
    const after = renderDevelopmentDoc(before, rowsFromReport(report, measured));
    if (after !== before) writeFileSync(DEVELOPMENT_DOC, after);
    console.log(after === before ? "docs/development.md: up to date" : "docs/development.md: mutation table rewritten");
  }
}
