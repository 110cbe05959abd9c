// The built package (dist/, made by `npm run build` before the tests) as an app would load it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

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
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe('import * as m from "events-forward";')], { cwd: root });
    const result = JSON.parse(stdout);
    expect(result.exports).toEqual(expect.arrayContaining(["eventsForward", "EventError", "EventTooLargeError", "EventQueueFullError", "OptionError"]));
    expect(result.tooLarge).toBe("EventTooLargeError");
    expect(result.middleware).toBe("function");
  });

  it("can be required as CommonJS, with the same exports", async () => {
    const esm = JSON.parse((await run(process.execPath, ["--input-type=module", "-e", probe('import * as m from "events-forward";')], { cwd: root })).stdout);
    const { stdout } = await run(process.execPath, ["-e", probe('const m = require("events-forward");')], { cwd: root });
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
