// The built package installed alone, with its own dependencies and none of the optional peers
// (no Express, Koa, Fastify or Hono): it loads, every adapter is there, and node:http works.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startStore } from "./helpers/lifecycle.js";
import { useTempDirs } from "./helpers/temp-dir.js";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const tempDir = useTempDirs();

/** An app directory whose node_modules holds a copy of the built package and only its dependencies. */
function appWithPackageAlone(): string {
  const app = tempDir();
  const modules = join(app, "node_modules");
  const own = join(modules, "events-forward");
  mkdirSync(own, { recursive: true });
  cpSync(join(root, "dist"), join(own, "dist"), { recursive: true });
  cpSync(join(root, "package.json"), join(own, "package.json"));
  const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(dependencies)) {
    mkdirSync(join(modules, name, ".."), { recursive: true });
    symlinkSync(join(root, "node_modules", name), join(modules, name), "dir");
  }
  return app;
}

const probe = `
import * as http from "node:http";
import { eventsForward } from "events-forward";
const missing = [];
for (const peer of ["express", "koa", "fastify", "hono", "@hono/node-server"]) {
  try { await import(peer); } catch { missing.push(peer); }
}
const events = eventsForward({ apiUrl: process.env.STORE_URL, instance: "alone", logger: false });
const server = http.createServer(events.wrap((req, res) => { req.events.put({ event: "hello" }); res.end("ok"); }));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const answer = await (await fetch("http://127.0.0.1:" + server.address().port + "/x")).text();
// Once the server has closed its connection, the response is done and its request event put.
await new Promise((resolve) => server.close(resolve));
const result = await events.close();
console.log(JSON.stringify({ missing, answer, adapters: [typeof events.fastify, typeof events.hono, typeof events.wrap], delivered: result.delivered }));
`;

describe("the built package without any framework installed", () => {
  it("loads, offers every adapter, and records a node:http request", async () => {
    const store = await startStore();
    const app = appWithPackageAlone();
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe], {
      cwd: app,
      env: { ...process.env, STORE_URL: store.url() },
    });
    const result = JSON.parse(stdout);
    expect(result.missing).toEqual(["express", "koa", "fastify", "hono", "@hono/node-server"]);
    expect(result).toMatchObject({ answer: "ok", adapters: ["function", "function", "function"], delivered: 2 });
    expect(store.deliveredRows().map((row) => [row.event, row.properties.path])).toEqual([
      ["hello", undefined],
      ["request", "/x"],
    ]);
  }, 30_000);
});
