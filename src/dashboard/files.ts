import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dashboardIndexesSql } from "./indexes.js";
import { storedQueries } from "./queries.js";

/** Where Datasette serves the bundled files (`--static MOUNT:DIR`). */
export const STATIC_MOUNT = "events-dashboard";

export interface DashboardFiles {
  /** Path inside the output directory → content. */
  files: Map<string, string | Buffer>;
  /** The page's path on the Datasette that serves it. */
  pagePath: string;
}

/**
 * What a Datasette needs to serve the dashboard, for 0.65 and 1.0 alike: the stored queries in
 * both configuration files (0.65 reads them from metadata, 1.0 from datasette.json), a custom
 * page in a template directory, the page's script, stylesheet and uPlot as static files, and the
 * index the request queries read (the embedded store makes it; a remote Datasette's owner runs it).
 */
export function dashboardFiles(database: string, table: string): DashboardFiles {
  const queries = storedQueries(table);
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const assets = assetsDir();
  const uplot = dirname(createRequire(import.meta.url).resolve("uplot/package.json"));
  const page = readFileSync(join(assets, "page.html"), "utf8")
    .replaceAll("__DATABASE__", database)
    .replaceAll("__TABLE__", table)
    .replaceAll("__STATIC__", STATIC_MOUNT);
  const files = new Map<string, string | Buffer>([
    ["metadata.json", json({ databases: { [database]: { queries } } })],
    ["datasette.json", json({ databases: { [database]: { queries } } })],
    ["index.sql", `${dashboardIndexesSql(table)};\n`],
    [`templates/pages/-/dashboards/${database}.html`, page],
    ["static/dashboard.js", readFileSync(join(assets, "dashboard.js"))],
    ["static/draw.js", readFileSync(join(assets, "draw.js"))],
    ["static/dashboard.css", readFileSync(join(assets, "dashboard.css"))],
    ["static/uPlot.iife.min.js", readFileSync(join(uplot, "dist", "uPlot.iife.min.js"))],
    ["static/uPlot.min.css", readFileSync(join(uplot, "dist", "uPlot.min.css"))],
    ["static/uPlot.LICENSE", readFileSync(join(uplot, "LICENSE"))],
  ]);
  return { files, pagePath: `/-/dashboards/${database}` };
}

/** src/dashboard/assets when run from the sources; dist/dashboard-assets (copied by tsup) when built. */
function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, "dashboard-assets");
  return existsSync(built) ? built : join(here, "assets");
}
