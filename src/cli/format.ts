import { printable } from "../core/printable.js";

/** Columns padded to their widest cell; `indent` before each line. Cells may quote a store: printed escaped. */
export function table(cells: string[][], indent = ""): string {
  const rows = cells.map((row) => row.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/** 4 s, 3 min, 2.5 h, 3.1 d. */
export function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
