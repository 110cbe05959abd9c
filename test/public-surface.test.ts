// The public names of each entry point of the built package (dist/, made by `npm run build`), read
// three ways: the ESM module's exports, the CommonJS module's, and the declaration files' (values
// and types). A change to the surface is a change to the lists below, so it shows in the diff.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

/** What an app needs: the factory, its types, the errors, the row's columns and the option types. */
const MAIN_VALUES = [
  "BeforeSendError",
  "DEFAULTS",
  "EventError",
  "EventQueueFullError",
  "EventTooLargeError",
  "ForwarderClosedError",
  "OptionError",
  "ROW_COLUMNS",
  "RequestEvents",
  "SINK_DEFAULTS",
  "SpoolUnreachableError",
  "SpoolUnwritableError",
  "datasetteRowSerializer",
  "eventsForward",
];
const MAIN_TYPES = [
  "BeforeSend",
  "BeforeSendStats",
  "CloseResult",
  "CollectorEvent",
  "CollectorOptions",
  "CollectorVersion",
  "EventInput",
  "EventMeta",
  "EventsForward",
  "EventsForwardOptions",
  "ForwarderStats",
  "Logger",
  "MetricsOptions",
  "RedisSpoolOptions",
  "Secret",
  "Serializer",
  "SpoolOptions",
];
/** events-forward/collector: the baseplate-style collector's helpers. */
const COLLECTOR_VALUES = [
  "COLLECTOR_CONFIG_KEYS",
  "COLLECTOR_USER_AGENT",
  "FieldKind",
  "LegacyEvent",
  "collectorOptionsFromConfig",
  "serializeV1Event",
  "serializeV2Event",
];
const COLLECTOR_TYPES = ["LegacyEventOptions"];
/** events-forward/diagnostics: the channels, their messages, the OpenTelemetry bridge. */
const DIAGNOSTICS_VALUES = ["CHANNELS", "recordOpenTelemetryMetrics"];
const DIAGNOSTICS_TYPES = [
  "BacklogMessage",
  "DropMessage",
  "ForwarderIdentity",
  "LeaseMessage",
  "OpenTelemetryMetricsOptions",
  "OverflowMessage",
  "RetryMessage",
  "SendContext",
];

const ENTRIES = [
  { specifier: "events-forward", file: "index", values: MAIN_VALUES, types: MAIN_TYPES },
  { specifier: "events-forward/collector", file: "collector", values: COLLECTOR_VALUES, types: COLLECTOR_TYPES },
  {
    specifier: "events-forward/diagnostics",
    file: "diagnostics",
    values: DIAGNOSTICS_VALUES,
    types: DIAGNOSTICS_TYPES,
  },
];

/** The names a module exports at run time, loaded through the package's own exports map. */
async function runtimeNames(specifier: string, format: "esm" | "cjs"): Promise<string[]> {
  const print = "console.log(JSON.stringify(Object.keys(m).sort()))";
  const args =
    format === "esm"
      ? ["--input-type=module", "-e", `import * as m from "${specifier}"; ${print}`]
      : ["-e", `const m = require("${specifier}"); ${print}`];
  const { stdout } = await run(process.execPath, args, { cwd: root });
  return JSON.parse(stdout) as string[];
}

/** The names a declaration file exports, split into values (a value meaning) and types only. */
function declaredNames(file: string): { values: string[]; types: string[] } {
  const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
  const values: string[] = [];
  const types: string[] = [];
  for (const symbol of exports) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
  }
  return { values: values.sort(), types: types.sort() };
}

describe.each(ENTRIES)("the entry point $specifier", ({ specifier, file, values, types }) => {
  it("exports these values from its ESM and its CommonJS build", async () => {
    expect(await runtimeNames(specifier, "esm")).toEqual(values);
    expect(await runtimeNames(specifier, "cjs")).toEqual(values);
  });

  it.each(["d.ts", "d.cts"])("declares these values and types in its .%s", (extension) => {
    expect(declaredNames(join(root, "dist", `${file}.${extension}`))).toEqual({ values, types });
  });
});

describe("the entry points together", () => {
  it("name each thing once", () => {
    const all = ENTRIES.flatMap(({ values, types }) => [...values, ...types]);
    expect(all.filter((name, i) => all.indexOf(name) !== i)).toEqual([]);
  });

  // The entries share their code (tsup splits it into chunks in both formats): an event made with
  // the collector entry's LegacyEvent is the class the main entry's forwarder checks put() against.
  it.each(["esm", "cjs"])("share one LegacyEvent class in %s", async (format) => {
    const probe = `
const events = m.eventsForward({ collector: { hostname: "127.0.0.1:9", keyName: "k", keySecret: "czNjcjN0", version: 1 }, logger: false });
const outcome = (event) => { try { events.put(event); return "queued"; } catch (error) { return error.name; } };
console.log(JSON.stringify([outcome(new c.LegacyEvent("topic", "type")), outcome({ topic: "topic" })]));
await events.close({ timeoutMs: 0 });`;
    const args =
      format === "esm"
        ? [
            "--input-type=module",
            "-e",
            `import * as m from "events-forward"; import * as c from "events-forward/collector"; ${probe}`,
          ]
        : [
            "-e",
            `const m = require("events-forward"); const c = require("events-forward/collector"); (async () => { ${probe} })();`,
          ];
    const { stdout } = await run(process.execPath, args, { cwd: root });
    expect(JSON.parse(stdout)).toEqual(["queued", "EventError"]);
  });
});
