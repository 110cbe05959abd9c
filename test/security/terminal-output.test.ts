import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { eventsForward, type EventsForward } from "../../src/index.js";
import { consoleLogger } from "../../src/core/log.js";
import { statusCommand } from "../../src/cli/status.js";
import { deadLettersCommand } from "../../src/cli/dead-letters.js";
import type { SpoolTarget } from "../../src/cli/spool-target.js";
import { PROJECT_ROOT } from "../helpers/datasette-venv.js";
import { FAST } from "../helpers/fast-options.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { TestStore } from "../helpers/test-store.js";

// Issue 28, item 3: what a store (or a proxy, or anyone on a plain-http path) answers reaches the
// operator's terminal and the logs; its control characters must not.

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");
/** Sets the terminal's title, clears the screen (with C1 CSI too), and forges a log line. */
const HOSTILE = "\u001b]0;owned\u0007 \u009b2J \u001b[2J\r\n2026-12-06T00:00:00.000Z [events-forward] all good";
/** Any C0 control but the newline that separates our own lines, DEL, or any C1 control. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/; // eslint-disable-line no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/; // eslint-disable-line no-control-regex

const tempDir = useTempDirs();
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
  vi.restoreAllMocks();
});

/** A spool whose delivery log and dead letters hold a Datasette answer with HOSTILE in its errors. */
async function hostileSpool(): Promise<SpoolTarget> {
  const store = await new TestStore().start();
  closing.push(() => store.stop());
  store.behave = () => ({ status: 400, body: JSON.stringify({ ok: false, errors: [HOSTILE] }) });
  const path = join(tempDir(), "spool.db");
  const events: EventsForward = eventsForward({
    apiUrl: store.url(),
    ...FAST,
    spool: { path, pollMs: 10 },
    requestEvents: false,
    logger: false,
  });
  events.put({ event: "refused" });
  await events.flush();
  await events.close();
  return { name: path, path, batchLimit: 100, maxRate: 10, timePeriod: 1, configured: false };
}

function lines(run: (out: (text: string) => void) => Promise<number>): Promise<string[]> {
  const printed: string[] = [];
  return run((text) => printed.push(text)).then(() => printed);
}

describe("control characters from outside", () => {
  test("the console logger escapes them: one message is one line, and no escape sequence reaches the terminal", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    consoleLogger.warn(`Datasette answered HTTP 400: ${HOSTILE}`);
    consoleLogger.error(`Datasette answered HTTP 400: ${HOSTILE}`);
    for (const printed of [...warn.mock.calls, ...error.mock.calls].map((call) => String(call[0]))) {
      expect(printed).not.toMatch(ANY_CONTROL);
      expect(printed).toContain("\\u001b]0;owned");
      expect(printed).toContain("\\r\\n2026-12-06");
    }
  });

  test("status and dead-letters list escape them; --json keeps the text, escaped as JSON", async () => {
    const target = await hostileSpool();
    const status = (await lines((out) => statusCommand(target, false, out))).join("\n");
    expect(status).toContain("HTTP 400"); // the answer is there, escaped
    expect(status).not.toMatch(CONTROL);
    const listed = (await lines((out) => deadLettersCommand(target, { action: "list", json: false }, out))).join("\n");
    expect(listed).toContain("\\u001b]0;owned");
    expect(listed).not.toMatch(CONTROL);

    for (const json of [
      (await lines((out) => statusCommand(target, true, out))).join(""),
      (await lines((out) => deadLettersCommand(target, { action: "list", json: true }, out))).join(""),
    ]) {
      expect(json).not.toMatch(ANY_CONTROL); // C1 too: JSON.stringify leaves those raw
      expect(json).toContain(JSON.stringify(HOSTILE).slice(1, 12)); // \u001b]0;own...
    }
    const letters = JSON.parse(
      (await lines((out) => deadLettersCommand(target, { action: "list", json: true }, out))).join(""),
    ) as {
      answer: string;
    }[];
    expect(letters[0]!.answer).toContain(HOSTILE); // raw, once parsed
  });

  test("status --watch draws escaped text", { timeout: 60_000 }, async () => {
    const target = await hostileSpool();
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "status", "--watch", "--spool", target.path!], {
      cwd: PROJECT_ROOT,
    });
    let frame = "";
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.stdout.on("data", (chunk: Buffer) => {
        frame += chunk.toString();
        if (frame.includes("Ctrl-C to stop")) resolve();
      });
    });
    child.kill("SIGTERM");
    // Our own escape sequence (home, clear) starts the frame; nothing else of the kind follows.
    expect(frame.startsWith("\u001b[H\u001b[2J")).toBe(true);
    expect(frame.slice("\u001b[H\u001b[2J".length)).not.toMatch(CONTROL);
    expect(frame).toContain("HTTP 400");
  });
});
