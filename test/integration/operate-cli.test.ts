import Database from "../helpers/sqlite-file.js";
import { execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetteRowSerializer, eventsForward, type EventsForward } from "../../src/index.js";
import { PROJECT_ROOT } from "../helpers/datasette-venv.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { EIGHT_COLUMNS } from "../helpers/row-format.js";
import { waitFor } from "../helpers/wait.js";
import { RedisServer } from "../helpers/redis-server.js";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");
const run = promisify(execFile);

/** Runs the CLI to its end; its stdout, or the error with its exit code. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: PROJECT_ROOT });
  return stdout;
}

const t = useDatasette();
const open: EventsForward[] = [];
// Registered after useDatasette, so it runs before Datasette stops.
afterAll(async () => {
  await Promise.all(open.map((events) => events.close({ timeoutMs: 500 })));
});

/** A table made by hand with the eight columns and no `plan`: rows that carry a plan are refused. */
function handMadeTable(name: string): void {
  const db = new Database(t.ds.dbPath);
  db.exec(
    `CREATE TABLE ${name} (${EIGHT_COLUMNS.map((c) => (c === "id" ? "id TEXT PRIMARY KEY" : `${c} TEXT`)).join(", ")})`,
  );
  db.close();
}

/** Datasette rows, plus a `plan` column on signup events. */
const base = datasetteRowSerializer("web-1");
const withPlan = (event: unknown, meta: object) => {
  const row = JSON.parse(base(event, meta)) as Record<string, unknown>;
  const input = event as { event: string; properties?: { plan?: string } };
  if (input.event === "signup") row.plan = input.properties?.plan;
  return JSON.stringify(row);
};

let redis: RedisServer;
beforeAll(async () => (redis = await RedisServer.start()));
afterAll(() => redis?.dispose());

/** A spool of each kind: the option that makes it, how the CLI names it, how an INI section does. */
const KINDS = [
  {
    kind: "SQLite",
    spool: (name: string) => ({ path: join(t.ds.dir, `${name}-spool.db`), pollMs: 20 }),
    args: (spool: { path?: string }) => ["--spool", spool.path!],
    ini: (spool: { path?: string }) => `spool = ${spool.path}`,
    shown: (spool: { path?: string }) => spool.path!,
  },
  {
    kind: "Redis",
    spool: (name: string) => ({ url: redis.url, key: `cli-${name}`, pollMs: 20, leaseMs: 1_000 }),
    args: (spool: { key?: string }) => ["--spool", redis.url, "--key", spool.key!],
    ini: (spool: { key?: string }) => `spool = ${redis.url}\nspool.key = ${spool.key}`,
    shown: (spool: { key?: string }) => `redis://127.0.0.1:${redis.port} (key ${spool.key})`,
  },
];

// Each CLI run starts node and compiles the CLI with tsx: seconds apiece on a loaded machine.
describe.each(KINDS)(
  "events-forward dead-letters and status on a $kind spool, against a real Datasette",
  { timeout: 120_000 },
  (kind) => {
    it("a table missing a column refuses some events; after the column is added, replay delivers them, each row once", async () => {
      const table = `shop_events_${kind.kind.toLowerCase()}`;
      handMadeTable(table);
      const spool = kind.spool("replay");
      const at = kind.args(spool);
      const events = eventsForward({
        ...FAST,
        apiUrl: t.ds.insertUrl(table),
        apiToken: t.ds.rootToken,
        spool,
        serializer: withPlan,
        logger: false,
        batchLimit: 10,
      });
      open.push(events);
      const names = ["view", "signup", "view", "view", "signup", "view"];
      names.forEach((event, n) => events.put({ event, properties: { n, plan: "pro" } }));
      await events.flush();
      expect((await t.ds.rows(table)).map((r) => r.event)).toEqual(["view", "view", "view", "view"]);

      const listed = JSON.parse(await cli("dead-letters", "list", ...at, "--json")) as {
        reason: string;
        status: number;
        answer: string;
        event: { event: string };
      }[];
      expect(listed.map((d) => [d.reason, d.status, d.event.event])).toEqual([
        ["HTTP 400", 400, "signup"],
        ["HTTP 400", 400, "signup"],
      ]);
      expect(listed[0]!.answer).toMatch(/invalid columns: plan/);
      const text = await cli("dead-letters", "list", ...at);
      expect(text).toMatch(/^HTTP 400: 2 event\(s\); the store said: Datasette answered HTTP 400: .*plan/m);

      // The user adds the column, through the SQLite file.
      const db = new Database(t.ds.dbPath);
      db.exec(`ALTER TABLE ${table} ADD COLUMN plan TEXT`);
      db.close();
      expect(await cli("dead-letters", "replay", ...at, "--reason", "HTTP 400")).toMatch(
        /^2 dead letter\(s\) put back/,
      );
      await waitFor(async () => (await t.ds.rows(table)).length === 6, {
        what: "the replayed signups delivered",
      });
      const rows = await t.ds.rows(table);
      expect(new Set(rows.map((r) => r.id)).size).toBe(6);
      expect(rows.filter((r) => r.event === "signup").map((r) => r.plan)).toEqual(["pro", "pro"]);
      expect(JSON.parse(await cli("dead-letters", "list", ...at, "--json"))).toEqual([]);
    });

    it("purge removes dead letters matching --reason; --since filters by time", async () => {
      const table = `purge_events_${kind.kind.toLowerCase()}`;
      handMadeTable(table);
      const spool = kind.spool("purge");
      const at = kind.args(spool);
      const events = eventsForward({
        ...FAST,
        apiUrl: t.ds.insertUrl(table),
        apiToken: t.ds.rootToken,
        spool,
        serializer: withPlan,
        logger: false,
      });
      open.push(events);
      events.put({ event: "signup", properties: { plan: "pro" } }); // a column the table lacks: 400
      await events.flush();
      expect(JSON.parse(await cli("dead-letters", "list", ...at, "--json", "--since", "2099-01-01T00:00:00Z"))).toEqual(
        [],
      );
      const [kept] = JSON.parse(await cli("dead-letters", "list", ...at, "--json", "--since", "1h")) as {
        reason: string;
      }[];
      expect(kept!.reason).toBe("HTTP 400");
      const status = JSON.parse(await cli("status", ...at, "--json"));
      expect(status.deadLetters).toMatchObject([{ reason: "HTTP 400", count: 1 }]);
      if (kind.kind === "Redis") expect(status.lastFailure.outcome).toMatch(/HTTP 400.*invalid columns: plan/);
      expect(await cli("status", ...at)).toMatch(/dead letters +1 HTTP 400/);
      expect(await cli("dead-letters", "purge", ...at, "--reason", "HTTP 500")).toMatch(/^0 dead letter/);
      expect(await cli("dead-letters", "purge", ...at, "--reason", kept!.reason)).toMatch(
        /^1 dead letter\(s\) removed/,
      );
      expect(JSON.parse(await cli("dead-letters", "list", ...at, "--json"))).toEqual([]);
    });

    it("status shows a running forwarder: waiting events, the publisher's host and pid and since when, the last delivery, dead letters, the capacity", async () => {
      const spool = kind.spool("status");
      const started = Date.now();
      const events = eventsForward({
        ...FAST,
        apiUrl: t.ds.createUrl,
        apiToken: t.ds.rootToken,
        spool,
        logger: false,
        // A window of 100 s: the request below is in it however slowly the CLI starts.
        timePeriod: 100,
      });
      open.push(events);
      events.put({ event: "a" });
      await events.flush();
      await waitFor(() => events.stats().publisher === true, { what: "the lease" });
      const config = join(t.ds.dir, `status-${kind.kind}.ini`);
      // The store's secret comes from a variable the CLI does not have: reading the spool needs none.
      writeFileSync(
        config,
        `[event-publisher:main]\n${kind.ini(spool)}\napi_url = ${t.ds.createUrl}\napi_token = \${EVENTS_FORWARD_TEST_UNSET_TOKEN}\nbatch_limit = 50\nmax_rate = 50\ntime_period = 100\n`,
      );
      const status = JSON.parse(await cli("status", "--queue-name", "main", config, "--json"));
      expect(status).toMatchObject({
        spool: kind.shown(spool),
        waiting: 0,
        lease: { host: hostname(), pid: process.pid },
        lastDelivery: { outcome: "sent" },
        deadLetters: [],
      });
      expect(status.lease.since).toBeGreaterThanOrEqual(started);
      expect(status.lastDelivery.at).toBeGreaterThanOrEqual(started);
      expect(status.requestsInWindow).toBeGreaterThanOrEqual(1);
      // A window of 100 s: the request above is in it however slowly the CLI starts.
      expect(status.capacity).toMatchObject({
        eventsPerSecond: 25,
        batchLimit: 50,
        maxRate: 50,
        timePeriod: 100,
        fromConfig: true,
      });
      const text = await cli("status", ...kind.args(spool));
      expect(text).toMatch(new RegExp(`publisher +${hostname()} pid ${process.pid}, since `));
      expect(text).toMatch(/capacity +2000 events\/s \(batchLimit 100 × maxRate 20 \/ timePeriod 1 s; defaults/);
    });

    it("status shows that the publisher holds the events while Datasette refuses its token (401)", async () => {
      const spool = kind.spool("holding");
      const otherSecret = "another-secret-than-datasettes";
      const events = eventsForward({
        ...FAST,
        apiUrl: t.ds.createUrl,
        apiToken: await t.ds.createToken("root", {}, otherSecret),
        spool,
        logger: false,
      });
      open.push(events);
      events.put({ event: "a" });
      events.put({ event: "b" });
      await waitFor(() => events.stats().holding === "HTTP 401", { what: "the publisher holding" });
      // The publisher records the state (on Redis without waiting for the answer): wait for it.
      let status: { waiting: number; holding?: { answer: string; reason: string; since: number } } = { waiting: 0 };
      await waitFor(
        async () => {
          status = JSON.parse(await cli("status", ...kind.args(spool), "--json"));
          return status.holding !== undefined;
        },
        { what: "the holding state in the spool", timeoutMs: 60_000 },
      );
      expect(status).toMatchObject({
        waiting: 2,
        holding: { answer: "HTTP 401", reason: expect.stringMatching(/signed with another secret/) },
      });
      expect(status.holding!.since).toBeLessThanOrEqual(Date.now());
      expect(await cli("status", ...kind.args(spool))).toMatch(/holding +HTTP 401 since .*nothing is dropped/);
    });

    it("status counts events waiting and their age while nobody publishes, and --watch redraws until interrupted", async () => {
      const spool = kind.spool("waiting");
      const writer = eventsForward({ spool, publisher: false, logger: false, instance: "app" });
      writer.put({ event: "late", created: Date.now() - 120_000 });
      writer.put({ event: "later" });
      await writer.close();
      const status = JSON.parse(await cli("status", ...kind.args(spool), "--json"));
      expect(status).toMatchObject({ waiting: 2, lease: {}, deadLetters: [] });
      expect(status.lease.holder).toBeUndefined();
      expect(status.oldestAgeMs).toBeGreaterThanOrEqual(120_000);
      const child = spawn(process.execPath, ["--import", "tsx", CLI, "status", ...kind.args(spool), "--watch"], {
        cwd: PROJECT_ROOT,
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes("Ctrl-C to stop"), { what: "the first frame", timeoutMs: 20_000 });
      expect(output).toContain("\x1b[H\x1b[2J");
      expect(output).toMatch(/events waiting +2, the oldest put 2 min ago/);
      const code = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await code).toBe(0);
    });
  },
);

describe("events-forward dead-letters and status: what they refuse", { timeout: 120_000 }, () => {
  it("refuses a missing spool target, a spool file that is not there, or a Redis key nobody used, with a clear message and exit code 2", async () => {
    const failure = await cli("status").catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("events-forward option --queue-name: give --queue-name NAME CONFIG"),
    });
    const typo = join(t.ds.dir, "no-such-spool.db");
    const missing = await cli("status", "--spool", typo).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`events-forward option --spool: there is no spool file at ${typo}`),
    });
    expect(existsSync(typo)).toBe(false);
    const key = await cli("status", "--spool", redis.url, "--key", "no-such-key").catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(key).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        `events-forward option --key: there is no spool with key no-such-key at redis://127.0.0.1:${redis.port}`,
      ),
    });
    // A password in the URL never shows, whatever the command says.
    const guarded = await RedisServer.start({ password: "cli-s3cret-pw" });
    try {
      const denied = await cli("status", "--spool", `redis://:wrong-pw@127.0.0.1:${guarded.port}`).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(denied).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`cannot read redis://127.0.0.1:${guarded.port}`),
      });
      const typo = await cli("dead-letters", "list", "--spool", guarded.url, "--key", "nope").catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(typo).toMatchObject({ code: 2 });
      const said = [denied, typo].map(
        (e) => `${(e as { stderr: string }).stderr}${(e as { stdout?: string }).stdout ?? ""}`,
      );
      expect(said.join("\n")).not.toMatch(/wrong-pw|cli-s3cret-pw/);
    } finally {
      await guarded.dispose();
    }
  });
});
