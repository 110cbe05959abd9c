// scripts/mutation-table.ts: docs/development.md's mutation scores, made from Stryker's JSON report.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEVELOPMENT_DOC,
  renderDevelopmentDoc,
  rowsFromReport,
  rowsInPage,
  type MutationReport,
} from "../scripts/mutation-table.js";

const mutants = (...statuses: string[]) => ({ mutants: statuses.map((status) => ({ status })) });

describe("the mutation table (npm run docs:mutation)", () => {
  it("counts a report's mutants by status and scores them as Stryker does: detected over valid", () => {
    const report: MutationReport = {
      files: {
        "src/pipeline/retry.ts": mutants(
          "Killed",
          "Killed",
          "Timeout",
          "Survived",
          "NoCoverage",
          "CompileError",
          "Ignored",
        ),
        "src/none.ts": mutants("CompileError"),
      },
    };
    expect(rowsFromReport(report, "2026-12-07")).toEqual([
      ["src/pipeline/retry.ts", "5 | 2 | 1 | 1 | 1 | 60.0% | 2026-12-07"],
      ["src/none.ts", "0 | 0 | 0 | 0 | 0 | – | 2026-12-07"],
    ]);
  });

  it("is in its generated form in docs/development.md", () => {
    const page = readFileSync(DEVELOPMENT_DOC, "utf8");
    expect(rowsInPage(page).length).toBeGreaterThan(10);
    expect(renderDevelopmentDoc(page, []), "run npm run docs:mutation").toBe(page);
  });

  it("rewrites the report's modules, adds new ones in order, and keeps the others", () => {
    const page = readFileSync(DEVELOPMENT_DOC, "utf8");
    const before = new Map(rowsInPage(page));
    const report: MutationReport = {
      files: { "src/pipeline/retry.ts": mutants("Killed", "Survived"), "src/pipeline/aaa.ts": mutants("Killed") },
    };
    const after = rowsInPage(renderDevelopmentDoc(page, rowsFromReport(report, "2026-12-07")));
    expect(new Map(after).get("src/pipeline/retry.ts")).toBe("2 | 1 | 0 | 1 | 0 | 50.0% | 2026-12-07");
    expect(new Map(after).get("src/pipeline/aaa.ts")).toBe("1 | 1 | 0 | 0 | 0 | 100.0% | 2026-12-07");
    for (const [module, cells] of before)
      if (module !== "src/pipeline/retry.ts") expect(new Map(after).get(module)).toBe(cells);
    const modules = after.map(([module]) => module);
    expect(modules).toEqual([...modules].sort((a, b) => a.localeCompare(b)));
  });
});
