// The package on Cloudflare Workers: apps/worker.mjs (a Hono app with app.use(events.hono)) bundled
// as wrangler bundles a Worker (esbuild, the workerd/worker/browser export conditions, node:*
// left to the runtime's nodejs_compat), run on workerd through Miniflare (both from npm,
// test/runtimes/package.json), forwarding to a real Datasette on loopback.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useDatasette } from "../helpers/servers.js";
import { ULID } from "../helpers/row-format.js";
import { waitFor } from "../helpers/wait.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The compatibility date and flag docs/frameworks.md gives for Workers. */
const COMPATIBILITY = { compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"] };

const t = useDatasette();
let mf: Miniflare;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(root, "test/runtimes/apps/worker.mjs")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["node:*", "cloudflare:*"],
    // The built package, as the app's `import "events-forward"` would find it once installed.
    alias: { "events-forward": join(root, "dist/index.js") },
    nodePaths: [join(root, "node_modules")],
    logLevel: "error",
  });
  mf = new Miniflare({
    // Named, as wrangler passes its bundle: Miniflare's own module search refuses import(variable).
    modules: [{ type: "ESModule", path: "worker.mjs", contents: bundle.outputFiles[0]!.text }],
    ...COMPATIBILITY,
    bindings: { API_URL: t.ds.createUrl, API_TOKEN: t.ds.rootToken },
  });
  await mf.ready;
});
afterAll(() => mf?.dispose());

async function get(path: string): Promise<unknown> {
  const response = await mf.dispatchFetch(`http://worker.test${path}`, { headers: { "x-request-id": path.slice(7) } });
  expect(response.status).toBe(200);
  return response.json();
}

describe("on Cloudflare Workers (workerd)", () => {
  it("a Hono app forwards each request's events to Datasette, the request kept alive by waitUntil", async () => {
    await get("/users/1");
    await Promise.all([get("/users/2"), get("/users/3")]);
    let rows: Array<Record<string, unknown>> = [];
    await waitFor(
      async () => {
        rows = (await t.ds.tableExists("worker_events")) ? await t.ds.rows("worker_events") : [];
        return rows.length >= 6;
      },
      { what: "six rows in worker_events", timeoutMs: 20_000 },
    );
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row).toMatchObject({ id: expect.stringMatching(ULID), instance: "workerd" });
    for (const id of ["1", "2", "3"]) {
      const ofRequest = rows
        .map((row) => ({ event: row.event, properties: JSON.parse(row.properties as string) }))
        .filter((row) => row.properties.request_id === id);
      expect(ofRequest.find((row) => row.event === "user.viewed")?.properties).toEqual({ user: id, request_id: id });
      expect(ofRequest.find((row) => row.event === "request")?.properties).toMatchObject({
        method: "GET",
        path: `/users/${id}`,
        route: "/users/:id",
        status: 200,
      });
    }
    expect(await get("/warnings")).toEqual([]);
  });

  it("refuses at start-up, with an OptionError, a SQLite spool and the embedded store: Workers have no SQLite", async () => {
    expect(await get("/start-up/sqlite-spool")).toMatchObject({
      name: "OptionError",
      option: "spool",
      message: expect.stringMatching(/needs SQLite/),
    });
    expect(await get("/start-up/embedded-store")).toMatchObject({
      name: "OptionError",
      option: "database",
      message: expect.stringMatching(/needs SQLite/),
    });
  });
});
