// The built package (dist/, made by `npm run build` before the tests) as an app would load it.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

// Both entry points must expose the same API and working error classes.
const probe = (load: string) => `
${load}
const events = m.eventsForward({ apiUrl: "http://127.0.0.1:9/db/-/create", instance: "probe", logger: false });
let error;
try { events.put({ event: "x", properties: { big: "y".repeat(200000) } }); } catch (e) { error = e; }
console.log(JSON.stringify({
  exports: Object.keys(m).sort(),
  tooLarge: error instanceof m.EventTooLargeError && error instanceof m.EventError && error.name,
  middleware: typeof events,
}));
`;

describe("the built package", () => {
  it("can be imported as ESM", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--input-type=module", "-e", probe('import * as m from "events-forward";')],
      { cwd: root },
    );
    const result = JSON.parse(stdout);
    expect(result.exports).toEqual(
      expect.arrayContaining([
        "eventsForward",
        "EventError",
        "EventTooLargeError",
        "EventQueueFullError",
        "OptionError",
      ]),
    );
    expect(result.tooLarge).toBe("EventTooLargeError");
    expect(result.middleware).toBe("function");
  });

  it("can be required as CommonJS, with the same exports", async () => {
    const esm = JSON.parse(
      (
        await run(process.execPath, ["--input-type=module", "-e", probe('import * as m from "events-forward";')], {
          cwd: root,
        })
      ).stdout,
    );
    const { stdout } = await run(process.execPath, ["-e", probe('const m = require("events-forward");')], {
      cwd: root,
    });
    const cjs = JSON.parse(stdout);
    expect(cjs.exports).toEqual(esm.exports.filter((name: string) => name !== "default"));
    expect(cjs.tooLarge).toBe("EventTooLargeError");
  });

  it("types req.events and ctx.events in an app through declaration merging", async () => {
    // test/types/usage.ts uses @ts-expect-error where the merged types must reject code: if the
    // merging broke, those lines would compile and tsc would report the unused directives.
    const tsc = new URL("../node_modules/typescript/bin/tsc", import.meta.url).pathname;
    await expect(run(process.execPath, [tsc, "-p", "test/types/tsconfig.json"], { cwd: root })).resolves.toBeDefined();
  }, 60_000);
});

// The package as npm publishes it: packed, then installed from the tarball into a project of its
// own (from the npm cache where it can: --prefer-offline), where nothing of this repository can be reached.
describe("the published tarball", () => {
  let scratch: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "events-forward-pack-"));
    // --ignore-scripts: `npm test` has just built dist/; prepack would build it again.
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], {
      cwd: root,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, packed!.filename);
    files = packed!.files.map((file) => file.path).sort();
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, version: "1.0.0" }));
    // As a user installs it: no optional peer comes along (better-sqlite3, hot-shots).
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", tarball], {
      cwd: scratch,
    });
  }, 180_000);

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it("ships the build, the docs, the benchmarks the docs link to and the license, and nothing else", async () => {
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
    expect(tarball.endsWith(`events-forward-${version}.tgz`)).toBe(true);
    const docs = readdirSync(join(root, "docs"))
      .filter((name) => name.endsWith(".md") || name.endsWith(".png"))
      .map((name) => `docs/${name}`);
    expect(docs.length).toBeGreaterThan(5);
    expect(files).toEqual(
      [
        "BENCHMARKS.md",
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "package.json",
        ...docs,
        "dist/cli.js",
        "dist/cli.js.map",
        // The three entry points (index, collector, diagnostics) in both formats with their
        // declarations, and the chunks they share (named by a hash of their content).
        ...["index", "collector", "diagnostics"].flatMap((entry) =>
          ["cjs", "cjs.map", "d.cts", "d.ts", "js", "js.map"].map((ext) => `dist/${entry}.${ext}`),
        ),
        ...files.filter((file) => /^dist\/(chunk-[\w-]+\.(c?js|c?js\.map)|[\w]+-[\w-]{8}\.d\.c?ts)$/.test(file)),
        // What `events-forward dashboard` copies into its output (docs/dashboard.md).
        "dist/dashboard-assets/dashboard.css",
        "dist/dashboard-assets/dashboard.js",
        "dist/dashboard-assets/draw.js",
        "dist/dashboard-assets/page.html",
      ].sort(),
    );
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toContain(
      "Apache License\n                           Version 2.0, January 2004",
    );
  });

  it("can be imported and required from the installed tarball", async () => {
    const esm = JSON.parse(
      (
        await run(process.execPath, ["--input-type=module", "-e", probe('import * as m from "events-forward";')], {
          cwd: scratch,
        })
      ).stdout,
    );
    const cjs = JSON.parse(
      (await run(process.execPath, ["-e", probe('const m = require("events-forward");')], { cwd: scratch })).stdout,
    );
    expect(esm.exports).toEqual(expect.arrayContaining(["eventsForward", "EventError", "OptionError", "ROW_COLUMNS"]));
    expect(cjs.exports).toEqual(esm.exports.filter((name: string) => name !== "default"));
    expect([esm.tooLarge, cjs.tooLarge]).toEqual(["EventTooLargeError", "EventTooLargeError"]);
    // The other two entry points, through the exports map, in both formats.
    for (const [specifier, name] of [
      ["events-forward/collector", "LegacyEvent"],
      ["events-forward/diagnostics", "CHANNELS"],
    ]) {
      const check = `console.log(typeof m.${name})`;
      const loaded = await Promise.all([
        run(process.execPath, ["--input-type=module", "-e", `import * as m from "${specifier}"; ${check}`], {
          cwd: scratch,
        }),
        run(process.execPath, ["-e", `const m = require("${specifier}"); ${check}`], { cwd: scratch }),
      ]);
      expect(
        loaded.map(({ stdout }) => stdout.trim()),
        specifier,
      ).toEqual([name === "CHANNELS" ? "object" : "function", name === "CHANNELS" ? "object" : "function"]);
    }
    // Resolved inside the scratch project, not this repository.
    const { stdout } = await run(process.execPath, ["-p", 'require.resolve("events-forward")'], { cwd: scratch });
    expect(stdout.trim()).toBe(join(realpathSync(scratch), "node_modules/events-forward/dist/index.cjs"));
  });

  // The strictest project a user may have, with none of the optional peers installed: the
  // declarations compile under TypeScript 5 (tsc) and 7 (the native tsgo), without skipLibCheck.
  // ESM and CommonJS are two projects: one program that loads both index.d.ts and index.d.cts
  // sees two RequestEvents classes merged into Express's one Request (the dual-package hazard).
  it.each([
    ["TypeScript 5 (tsc)", "typescript/bin/tsc"],
    ["TypeScript 7 (tsgo)", "@typescript/native-preview/bin/tsgo"],
  ])(
    "types an app that imports it (ESM) or requires it (CommonJS) under %s, strict",
    async (_name, compiler) => {
      const code = (load: string) => `${load}
const options: EventsForwardOptions = { apiUrl: "http://127.0.0.1:9/db/-/create", batchLimit: 10 };
const events = eventsForward(options);
events.put({ event: "signup", properties: { plan: "pro" } });
const queued: number = events.stats().queued;
// @ts-expect-error batchLimit is a number: if the types were missing (any), this line would compile.
eventsForward({ batchLimit: "10" });
// @ts-expect-error put() takes the row's fields: a misspelt one is a compile error, not a lost column.
events.put({ event: "signup", propertes: { plan: "pro" } });
// @ts-expect-error a bare string is no event.
events.put("signup");
const legacy = eventsForward({ collector: { hostname: "127.0.0.1:9", keyName: "k", keySecret: "s", version: 1 } });
legacy.put(new LegacyEvent("topic", "type"));
const channel: string = CHANNELS.drop;
const custom = eventsForward({ apiUrl: "http://127.0.0.1:9/db/-/create", serializer: (e: { n: number }) => String(e.n) });
custom.put({ n: 1 });
// @ts-expect-error put() takes what the serializer takes.
custom.put({ event: "signup" });
export { queued, channel };
`;
      writeFileSync(
        join(scratch, "app.mts"),
        code(
          'import { eventsForward, type EventsForwardOptions } from "events-forward";\nimport { LegacyEvent } from "events-forward/collector";\nimport { CHANNELS } from "events-forward/diagnostics";',
        ),
      );
      writeFileSync(
        join(scratch, "app.cts"),
        code(
          'import { eventsForward, type EventsForwardOptions } from "events-forward";\nimport { LegacyEvent } from "events-forward/collector";\nimport { CHANNELS } from "events-forward/diagnostics";',
        ),
      );
      for (const peer of ["fastify", "hono", "@opentelemetry/api", "express", "koa", "redis", "better-sqlite3"]) {
        expect(existsSync(join(scratch, "node_modules", peer)), `${peer} must not be installed`).toBe(false);
      }
      for (const app of ["app.mts", "app.cts"]) {
        const tsconfig = {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            noEmit: true,
            skipLibCheck: false,
            types: ["node"],
            typeRoots: [join(root, "node_modules/@types")],
          },
          files: [app],
        };
        writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(tsconfig));
        const result = run(process.execPath, [join(root, "node_modules", compiler), "-p", scratch], { cwd: scratch });
        await expect(
          result.catch((error: { stdout: string }) => Promise.reject(new Error(`${app}: ${error.stdout}`))),
        ).resolves.toBeDefined();
      }
    },
    120_000,
  );

  // TypeScript 5's older resolution (node10, still the default of `module: commonjs`) reads no
  // exports map: package.json's typesVersions leads it to the other two entries' declarations.
  it("types the three entry points under moduleResolution node10 (TypeScript 5)", async () => {
    writeFileSync(
      join(scratch, "app10.ts"),
      `import { eventsForward } from "events-forward";
import { LegacyEvent } from "events-forward/collector";
import { CHANNELS, type DropMessage } from "events-forward/diagnostics";
const legacy = eventsForward({ collector: { hostname: "127.0.0.1:9", keyName: "k", keySecret: "s", version: 1 } });
legacy.put(new LegacyEvent("topic", "type"));
// @ts-expect-error CHANNELS holds strings: if the types were missing (any), this line would compile.
const wrong: number = CHANNELS.drop;
export type { DropMessage };
export { wrong };
`,
    );
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        module: "commonjs",
        moduleResolution: "node10",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
      },
      files: ["app10.ts"],
    };
    writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(tsconfig));
    const result = run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", scratch], {
      cwd: scratch,
    });
    await expect(
      result.catch((error: { stdout: string }) => Promise.reject(new Error(`app10.ts: ${error.stdout}`))),
    ).resolves.toBeDefined();
  }, 120_000);

  it("installs without building anything: no native package, no install script", () => {
    const installed = packagesIn(join(scratch, "node_modules"));
    expect(installed).toContain("events-forward");
    expect(installed).toContain("undici");
    // better-sqlite3 and hot-shots are optional peers, and hot-shots brought unix-dgram (native).
    expect(installed.filter((name) => ["better-sqlite3", "hot-shots", "unix-dgram"].includes(name))).toEqual([]);
    const withScripts = installed.filter((name) => {
      const { scripts = {} } = JSON.parse(readFileSync(join(scratch, "node_modules", name, "package.json"), "utf8"));
      return ["preinstall", "install", "postinstall"].some((script) => script in scripts);
    });
    expect(withScripts).toEqual([]);
  });

  it("writes the embedded store with the runtime's own SQLite, or says which package to install", async () => {
    const app = `
import { eventsForward } from "events-forward";
try {
  const events = eventsForward({ database: "events.db", instance: "tarball", logger: false });
  events.put({ event: "signup" });
  const { delivered } = await events.close();
  const { DatabaseSync } = await import("node:sqlite");
  const rows = new DatabaseSync("events.db").prepare("SELECT event, instance FROM datasette_events").all();
  console.log(JSON.stringify({ delivered, rows: rows.map((row) => ({ ...row })) }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}`;
    // The runtime's own choice: not a driver the suite's environment names (vitest.config.ts).
    const env = { ...process.env, EVENTS_FORWARD_SQLITE_DRIVER: "" };
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", app], { cwd: scratch, env });
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    if (major > 22 || (major === 22 && minor >= 13))
      expect(JSON.parse(stdout)).toEqual({ delivered: 1, rows: [{ event: "signup", instance: "tarball" }] });
    else
      expect(JSON.parse(stdout).error).toMatch(
        /^events-forward option database: needs SQLite, .*npm install better-sqlite3; or run Node 22.13 or later/,
      );
  });

  it("metrics without hot-shots installed: an OptionError that names the package", async () => {
    const app = `
const { eventsForward } = require("events-forward");
try {
  eventsForward({ apiUrl: "http://127.0.0.1:9/db/-/create", metrics: { namespace: "app", endpoint: "127.0.0.1:8125" } });
} catch (error) {
  console.log(JSON.stringify({ name: error.name, option: error.option, message: error.message }));
}`;
    const { stdout } = await run(process.execPath, ["-e", app], { cwd: scratch });
    expect(JSON.parse(stdout)).toEqual({
      name: "OptionError",
      option: "metrics",
      message:
        "events-forward option metrics: needs the optional package hot-shots, which is not installed: npm install hot-shots",
    });
  });

  it("installs the events-forward bin, which prints its version", async () => {
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
    const { stdout } = await run(join(scratch, "node_modules/.bin/events-forward"), ["--version"], { cwd: scratch });
    expect(stdout.trim()).toBe(version);
  });
});

/** The packages in a node_modules folder (scoped ones as @scope/name), not counting its own folders. */
function packagesIn(modules: string): string[] {
  return readdirSync(modules)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) =>
      name.startsWith("@") ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
    );
}
