import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { dashboardCommand } from "../../src/cli/dashboard.js";
import { PROJECT_ROOT } from "../helpers/datasette-venv.js";

const execFileAsync = promisify(execFile);

describe("events-forward dashboard", () => {
  let dir: string;
  let errors: string[];
  let printed: string;
  const run = (...args: string[]) => dashboardCommand(args, (text) => (printed += text));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "events-forward-dashboard-cli-"));
    errors = [];
    printed = "";
    vi.spyOn(console, "error").mockImplementation((message: string) => void errors.push(message));
  });

  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the configuration files, the page and the static files, and nothing else beside them", () => {
    const out = join(dir, "dash");
    expect(run("--out", out, "--database", "analytics", "--table", "app_events")).toBe(0);
    expect(readdirSync(dir)).toEqual(["dash"]);
    const metadata = JSON.parse(readFileSync(join(out, "metadata.json"), "utf8"));
    const config = JSON.parse(readFileSync(join(out, "datasette.json"), "utf8"));
    expect(config).toEqual(metadata);
    expect(Object.keys(config.databases)).toEqual(["analytics"]);
    expect(config.databases.analytics.queries.summary.sql).toContain('"app_events"');
    const page = readFileSync(join(out, "templates/pages/-/dashboards/analytics.html"), "utf8");
    expect(page).toContain("urls.database('analytics')");
    expect(page).not.toMatch(/__\w+__/);
    expect(readdirSync(join(out, "static")).sort()).toEqual([
      "dashboard.css",
      "dashboard.js",
      "draw.js",
      "uPlot.LICENSE",
      "uPlot.iife.min.js",
      "uPlot.min.css",
    ]);
    expect(printed).toMatch(/^ {2}datasette analytics\.db --(metadata|config) /m);
    expect(printed).toContain("/-/dashboards/analytics");
    expect(readFileSync(join(out, "index.sql"), "utf8")).toMatch(
      /^CREATE INDEX IF NOT EXISTS "app_events_requests" ON "app_events" \(created, .*\) WHERE event = 'request';\nCREATE INDEX IF NOT EXISTS "app_events_routes" ON "app_events" /,
    );
    expect(printed).toContain(`sqlite3 analytics.db < ${join(out, "index.sql")}`);
  });

  it.each([
    ["--database", "my-db"],
    ["--database", "1events"],
    ["--table", "events; DROP TABLE x"],
    ["--table", 'a"b'],
    ["--table", "x".repeat(129)],
  ])("refuses %s %j, naming the option, and writes nothing", (option, value) => {
    expect(run("--out", join(dir, "dash"), option, value)).toBe(2);
    expect(errors.join("\n")).toContain(`option ${option}:`);
    expect(errors.join("\n")).toContain("is not a SQL identifier");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("prints paths under an --out given with a trailing slash as they are typed, without a double slash", () => {
    expect(run("--out", `${join(dir, "dash")}/`)).toBe(0);
    expect(printed).toContain(`--template-dir ${join(dir, "dash")}/templates `);
    expect(printed).not.toMatch(/dash\/\//);
  });

  it("requires --out", () => {
    expect(run("--table", "t")).toBe(2);
    expect(errors.join("\n")).toContain("option --out: is required");
  });

  it("does not overwrite an existing output without --force, and replaces it whole with --force", () => {
    const out = join(dir, "dash");
    mkdirSync(out);
    writeFileSync(join(out, "mine.txt"), "keep me");
    expect(run("--out", out)).toBe(2);
    expect(errors.join("\n")).toContain("exists: pass --force to replace it");
    expect(readdirSync(out)).toEqual(["mine.txt"]);
    expect(run("--out", out, "--force")).toBe(0);
    expect(existsSync(join(out, "mine.txt"))).toBe(false);
    expect(existsSync(join(out, "metadata.json"))).toBe(true);
    // No temporary or old directory left beside it.
    expect(readdirSync(dir)).toEqual(["dash"]);
  });

  it("writes nothing when it cannot write, and says why", () => {
    writeFileSync(join(dir, "not-a-directory"), "");
    expect(run("--out", join(dir, "not-a-directory", "dash"))).toBe(1);
    expect(errors.join("\n")).toMatch(/cannot write .*not-a-directory/);
    expect(readdirSync(dir)).toEqual(["not-a-directory"]);
  });

  it("is a command of the events-forward bin (dist/cli.js)", async () => {
    const cli = join(PROJECT_ROOT, "dist", "cli.js");
    const bad = await execFileAsync(process.execPath, [
      cli,
      "dashboard",
      "--out",
      join(dir, "d"),
      "--table",
      "a-b",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain("option --table:");
    const { stdout } = await execFileAsync(process.execPath, [cli, "dashboard", "--out", join(dir, "d")]);
    expect(stdout).toContain("/-/dashboards/events");
    expect(existsSync(join(dir, "d", "static", "dashboard.js"))).toBe(true);
  });
});
