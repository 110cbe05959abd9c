import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { OptionError } from "../core/errors.js";
import { dashboardFiles, STATIC_MOUNT } from "../dashboard/files.js";
import { SQL_IDENTIFIER } from "../dashboard/queries.js";

export const DASHBOARD_USAGE = `Usage: events-forward dashboard --out PATH [--database events] [--table datasette_events] [--force]

Writes into the directory PATH what a Datasette (0.65 or the 1.0 alpha) needs to serve a dashboard
of the events table, and prints the datasette command that serves it and the page's path.
--database: the Datasette database name (the embedded store's ./events.db is "events").
--table: the events table. --force: replace PATH if it exists. See docs/dashboard.md.`;

/** Datasette stops a query after this long; the printed command allows more for long ranges. */
const SQL_TIME_LIMIT_MS = 5_000;

/** `events-forward dashboard`: writes the files, prints how to serve them; 0 on success, 2 on bad input, 1 if writing fails. */
export function dashboardCommand(argv: string[], print: (text: string) => void = console.log): number {
  let out: string;
  let database: string;
  let table: string;
  let force: boolean;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        database: { type: "string", default: "events" },
        table: { type: "string", default: "datasette_events" },
        force: { type: "boolean", default: false },
      },
    });
    if (positionals.length > 0) throw new OptionError("dashboard", `does not take ${positionals.join(" ")}`);
    if (values.out === undefined || values.out === "")
      throw new OptionError("--out", "is required: the directory to write");
    for (const option of ["database", "table"] as const) {
      if (!SQL_IDENTIFIER.test(values[option]))
        throw new OptionError(
          `--${option}`,
          `${JSON.stringify(values[option].slice(0, 140))} is not a SQL identifier (letters, digits and _, not starting with a digit, at most 128)`,
        );
    }
    ({ out, database, table, force } = values as { out: string; database: string; table: string; force: boolean });
    out = out.replace(/(.)\/+$/, "$1"); // "dashboard/" prints as dashboard/..., not dashboard//...
    if (existsSync(out) && !force) throw new OptionError("--out", `${out} exists: pass --force to replace it`);
  } catch (error) {
    if (!(error instanceof OptionError) && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") !== true)
      throw error;
    console.error(`${(error as Error).message}\n\n${DASHBOARD_USAGE}`);
    return 2;
  }
  const { files, pagePath } = dashboardFiles(database, table);
  try {
    writeWhole(out, files);
  } catch (error) {
    console.error(`events-forward dashboard: cannot write ${out}: ${(error as Error).message}`);
    return 1;
  }
  const version = datasetteVersion();
  const oneDotX = version !== undefined && Number.parseInt(version, 10) >= 1;
  const config = oneDotX
    ? `--config ${shellWord(join(out, "datasette.json"))}`
    : `--metadata ${shellWord(join(out, "metadata.json"))}`;
  const command = [
    "datasette",
    shellWord(`${database}.db`),
    config,
    `--template-dir ${shellWord(join(out, "templates"))}`,
    `--static ${shellWord(`${STATIC_MOUNT}:${join(out, "static")}`)}`,
    `--setting sql_time_limit_ms ${SQL_TIME_LIMIT_MS}`,
  ].join(" ");
  const other = oneDotX
    ? `For Datasette 0.65, use --metadata ${join(out, "metadata.json")} instead of --config.`
    : `For the Datasette 1.0 alpha, use --config ${join(out, "datasette.json")} instead of --metadata.`;
  print(
    [
      `Wrote the dashboard to ${out}/ (${version === undefined ? "no datasette on PATH: the command is for Datasette 0.65" : `for the Datasette ${version} on PATH`}). Serve it with:`,
      "",
      `  ${command}`,
      "",
      `and open http://127.0.0.1:8001${pagePath}`,
      other,
      `The embedded store indexes its table for the dashboard. On a Datasette that receives events, add the indexes once (seconds per million rows): sqlite3 ${shellWord(`${database}.db`)} < ${shellWord(join(out, "index.sql"))}`,
    ].join("\n"),
  );
  return 0;
}

/** Writes the files into a temporary sibling directory, then renames it into place: all or nothing. */
function writeWhole(out: string, files: Map<string, string | Buffer>): void {
  const target = resolve(out);
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const temp = join(dirname(target), `.${basename(target)}.tmp-${suffix}`);
  const old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
  try {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(temp, path)), { recursive: true });
      writeFileSync(join(temp, path), content);
    }
    if (existsSync(target)) renameSync(target, old);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw error;
  }
  rmSync(old, { recursive: true, force: true });
}

/** The version of the `datasette` on PATH ("0.65.5", "1.0a41"), if there is one. */
function datasetteVersion(): string | undefined {
  const bin = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "datasette"))
    .find((file) => existsSync(file));
  if (bin === undefined) return undefined;
  // Its package's metadata beside it (a virtualenv, pipx, a system install) answers at once;
  // running it starts Python and imports Datasette, seconds on a busy machine.
  return installedVersion(bin) ?? runVersion(bin);
}

function installedVersion(bin: string): string | undefined {
  const lib = join(dirname(realpathSync(bin)), "..", "lib");
  try {
    for (const python of readdirSync(lib).filter((name) => name.startsWith("python"))) {
      for (const packages of ["site-packages", "dist-packages"]) {
        const dir = join(lib, python, packages);
        if (!existsSync(dir)) continue;
        const info = readdirSync(dir)
          .map((name) => /^datasette-([^-]+)\.dist-info$/.exec(name)?.[1])
          .find((version) => version !== undefined);
        if (info !== undefined) return info;
      }
    }
  } catch {
    // No lib/ beside it: ask it.
  }
  return undefined;
}

function runVersion(bin: string): string | undefined {
  const result = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return result.status === 0 ? /version\s+(\S+)/.exec(result.stdout)?.[1] : undefined;
}

/** A word a POSIX shell reads back as it is. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
