import Database from "../helpers/sqlite-file.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { startUntilReady, type ReadyChild } from "../helpers/child.js";
import { useDatasette } from "../helpers/servers.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

// README's Express quick start (test/fixtures/quickstart-app.ts) with its default options, ended
// right after its last response in each way a process ends that leaves time to drain. 200
// requests put 400 events (a request event and a signup each): all of them must be in the store
// once the process has ended.
const APP = new URL("../fixtures/quickstart-app.ts", import.meta.url);
const REQUESTS = 200;
const t = useDatasette();
const tempDir = useTempDirs();
let app: ReadyChild | undefined;

afterEach(() => {
  if (app !== undefined && app.process.exitCode === null && app.process.signalCode === null)
    app.process.kill("SIGKILL");
  app = undefined;
});

/** 200 POST /signup, 10 at a time, over keep-alive connections, as a load tool would. */
async function load(port: number): Promise<void> {
  const agent = new Agent({ connections: 10 });
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      const answer = await request(`http://127.0.0.1:${port}/signup`, { method: "POST", dispatcher: agent });
      await answer.body.dump();
      expect(answer.statusCode).toBe(201);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  await agent.close();
}

interface Store {
  env(table: string): Record<string, string>;
  /** Rows, and distinct ids, in the table after the process ended. */
  count(table: string): Promise<{ rows: number; ids: number }>;
}

const stores: Record<string, () => Store> = {
  "the embedded store": () => {
    const file = join(tempDir(), "events.db");
    return {
      env: (table) => ({ DATABASE: file, TABLE: table }),
      count: async (table) => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare(`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM ${table}`).get() as {
            rows: number;
            ids: number;
          };
        } finally {
          db.close();
        }
      },
    };
  },
  Datasette: () => ({
    env: (table) => ({ STORE_URL: t.ds.createUrl, STORE_TOKEN: t.ds.rootToken, TABLE: table }),
    count: async (table) => {
      const rows = await t.ds.rows(table);
      return { rows: rows.length, ids: new Set(rows.map((row) => row.id)).size };
    },
  }),
};

let tables = 0;

/** Whether a process has a handler for a signal number (the SigCgt mask of /proc/PID/status). */
function catches(pid: number, signal: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
  return (BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n ? true : false;
}

describe.each(Object.keys(stores))(
  "README's Express quick start with %s, ended right after its last request",
  (kind) => {
    async function run(env: Record<string, string>, end: (child: ReadyChild, port: number) => Promise<void> | void) {
      const store = stores[kind]!();
      const table = `ended_${++tables}`;
      app = await startUntilReady(APP, { ...store.env(table), ...env });
      const port = Number(app.detail);
      await load(port);
      await end(app, port);
      const ended = await app.exit;
      return { ended, count: await store.count(table) };
    }

    it.each([
      ["SIGTERM", 143],
      ["SIGINT", 130],
    ] as const)(
      "%s: every event is stored, then the process dies of the signal (exit status %i)",
      async (signal, _status) => {
        const { ended, count } = await run({}, (child) => void child.process.kill(signal));
        expect({ code: ended.code, signal: ended.signal }).toEqual({ code: null, signal });
        expect(count).toEqual({ rows: 2 * REQUESTS, ids: 2 * REQUESTS });
      },
    );

    it("the app's own graceful shutdown (SIGTERM closes its server): every event is stored, the app exits as it would (0)", async () => {
      const { ended, count } = await run({ OWN_HANDLER: "1" }, (child) => void child.process.kill("SIGTERM"));
      expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 0, signal: null });
      expect(count).toEqual({ rows: 2 * REQUESTS, ids: 2 * REQUESTS });
    });

    it("the loop emptying (the app closed its server): every event is stored before the process ends (0)", async () => {
      const { ended, count } = await run({}, async (_child, port) => {
        await request(`http://127.0.0.1:${port}/quit`, { method: "POST" }).then((answer) => answer.body.dump());
      });
      expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 0, signal: null });
      expect(count).toEqual({ rows: 2 * REQUESTS, ids: 2 * REQUESTS });
      // Nothing said, but Node 22's one ExperimentalWarning for node:sqlite (docs/configuration.md).
      expect(withoutSqliteWarning(ended.stderr)).toBe("");
    });
  },
);

describe("README's Express quick start with Datasette, stalled while the app drains", () => {
  it("a second SIGTERM during the drain ends the process at once", async () => {
    app = await startUntilReady(APP, { STORE_URL: t.ds.createUrl, STORE_TOKEN: t.ds.rootToken, TABLE: "stalled" });
    await load(Number(app.detail));
    const pid = t.ds.pid;
    process.kill(pid, "SIGSTOP"); // the drain's requests now wait for an answer that does not come
    try {
      app.process.kill("SIGTERM");
      // Once the first signal is handled, the child no longer catches SIGTERM (Linux shows it in
      // /proc): the drain is under way, and the second signal takes its default effect.
      await waitFor(() => !catches(app!.process.pid!, 15), { what: "the child to stop catching SIGTERM" });
      app.process.kill("SIGTERM");
      const ended = await app.exit;
      expect({ code: ended.code, signal: ended.signal }).toEqual({ code: null, signal: "SIGTERM" });
      // Ended before the drain's deadline: nothing was reported as dropped.
      expect(ended.stderr).not.toMatch(/dropped/);
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });
});

/** stderr less the ExperimentalWarning Node 22 prints once when node:sqlite loads. */
function withoutSqliteWarning(stderr: string): string {
  return stderr
    .replace(/^\(node:\d+\) ExperimentalWarning: SQLite is an experimental feature.*\n/m, "")
    .replace(/^\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/m, "");
}
