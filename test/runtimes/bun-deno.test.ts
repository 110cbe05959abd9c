// The package on Bun and Deno (both from npm, test/runtimes/package.json): Express, Fastify and Hono
// apps (apps/server-app.mjs, each framework's real server on the runtime) forward to a real
// Datasette and to the embedded store (bun:sqlite on Bun, node:sqlite on Deno); the rows are read
// back here, from Datasette's API and from the SQLite file.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useDatasette } from "../helpers/servers.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { ULID } from "../helpers/row-format.js";
import { loadSqliteDriver } from "../../src/core/sqlite-choice.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const APP = join(here, "apps", "server-app.mjs");
const REQUESTS = 3;

/**
 * Bun's binary as its platform package ships it: the `bun` package's own bin is a stand-in that
 * its install script replaces, and test/runtimes/package.json runs no install script.
 */
const BUN = join(here, "node_modules", "@oven", `bun-${process.platform}-${process.arch}`, "bin", "bun");

/** Each runtime's command for a script, from the packages test/runtimes/package.json installs. */
const RUNTIMES = [
  { name: "Bun", command: (script: string) => [BUN, script] },
  {
    name: "Deno",
    // The node_modules beside package.json, as a Node project has them (Deno's "byonm" mode).
    command: (script: string) => [join(here, "node_modules", ".bin", "deno"), "run", "--allow-all", script],
  },
];
const FRAMEWORKS = ["express", "fastify", "hono"];

interface AppResult {
  closed: { delivered: number; undelivered: number };
  stats: { sent: number; dropped: number; failedRequests: number };
  warnings: string[];
}

async function runApp(command: string[], env: Record<string, string>): Promise<AppResult> {
  const [file, ...args] = command;
  const { stdout } = await promisify(execFile)(file!, args, {
    cwd: join(here, "..", ".."),
    env: { ...process.env, REQUESTS: String(REQUESTS), ...env },
    timeout: 60_000,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${command.join(" ")} failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as AppResult;
}

/** What every app must have written: per request, user.viewed and the request event. */
function expectRows(rows: Array<Record<string, unknown>>, instance: string): void {
  const parsed = rows
    .map((row) => ({
      ...row,
      event: row.event,
      properties: JSON.parse(row.properties as string) as Record<string, unknown>,
    }))
    .sort((a, b) => String(a.properties.request_id).localeCompare(String(b.properties.request_id)));
  expect(parsed).toHaveLength(2 * REQUESTS);
  for (const row of parsed) expect(row).toMatchObject({ id: expect.stringMatching(ULID), instance });
  for (let id = 1; id <= REQUESTS; id++) {
    const ofRequest = parsed.filter((row) => row.properties.request_id === `req-${id}`);
    expect(ofRequest.map((row) => row.event).sort()).toEqual(["request", "user.viewed"]);
    expect(ofRequest.find((row) => row.event === "user.viewed")!.properties).toEqual({
      user: String(id),
      request_id: `req-${id}`,
    });
    expect(ofRequest.find((row) => row.event === "request")!.properties).toMatchObject({
      method: "GET",
      path: `/users/${id}`,
      route: "/users/:id",
      status: 200,
    });
  }
}

const t = useDatasette();
const tempDir = useTempDirs();

describe.each(RUNTIMES)("on $name", ({ name, command }) => {
  it.each(FRAMEWORKS)("%s forwards to a real Datasette", async (framework) => {
    const instance = `${name}-${framework}`;
    const result = await runApp(command(APP), {
      FRAMEWORK: framework,
      STORE: "datasette",
      API_URL: t.ds.createUrl,
      API_TOKEN: t.ds.rootToken,
      INSTANCE: instance,
    });
    expect(result.warnings).toEqual([]);
    expect(result.closed).toEqual({ delivered: 2 * REQUESTS, undelivered: 0 });
    const rows = (await t.ds.rows("runtime_events")).filter((row) => row.instance === instance);
    expectRows(rows, instance);
  });

  it.each(FRAMEWORKS)("%s writes to the embedded store", async (framework) => {
    const database = join(tempDir(), "events.db");
    const instance = `${name}-${framework}-embedded`;
    const result = await runApp(command(APP), {
      FRAMEWORK: framework,
      STORE: "embedded",
      DATABASE: database,
      INSTANCE: instance,
    });
    expect(result.warnings).toEqual([]);
    expect(result.closed).toEqual({ delivered: 2 * REQUESTS, undelivered: 0 });
    const db = loadSqliteDriver("test").open(database, 1_000);
    try {
      expectRows(db.prepare("SELECT * FROM datasette_events").all() as Array<Record<string, unknown>>, instance);
    } finally {
      db.close();
    }
  });
});
