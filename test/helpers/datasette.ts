import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DATASETTE_BIN } from "./datasette-venv.js";
import { waitFor } from "./wait.js";

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** What a token may do; none given: everything its actor may do. */
export interface TokenRestrictions {
  /** Actions allowed everywhere, e.g. "insert-row". */
  all?: string[];
  /** [database, action] pairs. */
  database?: Array<[string, string]>;
  /** [database, table, action] triples. */
  resource?: Array<[string, string, string]>;
}

export interface Column {
  name: string;
  type: string;
  pk: number;
}

export type Row = Record<string, unknown>;

/**
 * A real Datasette (from the .venv that the global set-up makes) serving one SQLite file on a
 * free loopback port, run with `--root` so the `root` actor may do everything. It can be stopped
 * and started again on the same port and file, to play an outage.
 */
export class DatasetteServer {
  /** A token for `root`, allowed everything. */
  rootToken = "";
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly dir: string,
    readonly database: string,
    public port: number,
    /** Signs and checks tokens; restartWithSecret() changes it. */
    public secret: string,
    /** Passed as `--setting NAME VALUE` pairs, e.g. { max_insert_rows: 1000 }. */
    readonly settings: Record<string, string | number>,
  ) {}

  /** Starts Datasette on a fresh database file `<database>.db` in a temporary directory. */
  static async start(
    options: { database?: string; settings?: Record<string, string | number> } = {},
  ): Promise<DatasetteServer> {
    if (!existsSync(DATASETTE_BIN)) {
      throw new Error(
        `${DATASETTE_BIN} is missing: run \`npm run setup:datasette\` (vitest's global set-up does it too)`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), "events-forward-datasette-"));
    const server = new DatasetteServer(
      dir,
      options.database ?? "data",
      0,
      randomBytes(16).toString("hex"),
      options.settings ?? {},
    );
    // A free port can be taken by someone else before Datasette binds it: then try another.
    for (let attempt = 1; ; attempt++) {
      server.port = await freePort();
      try {
        await server.serve();
        break;
      } catch (error) {
        if (attempt >= 3 || !/address already in use/i.test(server.output)) {
          await server.dispose();
          throw error;
        }
      }
    }
    server.rootToken = await server.createToken("root");
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get dbPath(): string {
    return join(this.dir, `${this.database}.db`);
  }

  /** The write API URL that creates `table` on first use (the table is named in the body). */
  get createUrl(): string {
    return `${this.url}/${this.database}/-/create`;
  }

  /** The write API URL that inserts into an existing table. */
  insertUrl(table: string): string {
    return `${this.url}/${this.database}/${encodeURIComponent(table)}/-/insert`;
  }

  /** The server's process id (0 while stopped): to stall it with SIGSTOP, say. */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts (again) on the same port and database file; resolves once it answers HTTP. */
  async serve(): Promise<void> {
    if (this.child !== undefined) throw new Error("Datasette is already running");
    this.output = "";
    const args = [
      "serve",
      this.dbPath,
      "--create",
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--secret",
      this.secret,
      "--root",
    ];
    for (const [name, value] of Object.entries(this.settings)) args.push("--setting", name, String(value));
    const child = spawn(DATASETTE_BIN, args, {
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let exited = false;
    child.once("exit", () => {
      exited = true;
      if (this.child === child) this.child = undefined;
    });
    killOnExit.add(child);
    child.once("exit", () => killOnExit.delete(child));
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`Datasette exited while starting on port ${this.port}:\n${this.output}`);
          // Ours, not another test's server that took the port first (its answer would pass the fetch).
          if (!listening(this.output, this.port)) return false;
          return (await fetch(`${this.url}/-/versions.json`).catch(() => undefined))?.ok === true;
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: `Datasette answering on port ${this.port}` },
      );
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL if it lingers); the database file stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Stops, then serves again with another secret (tokens signed with it become valid); rootToken follows. */
  async restartWithSecret(secret: string): Promise<void> {
    await this.stop();
    this.secret = secret;
    await this.serve();
    this.rootToken = await this.createToken("root");
  }

  /** Stops the server and deletes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A token made by `datasette create-token` with this server's secret (or another one). */
  async createToken(actor: string, restrict: TokenRestrictions = {}, secret = this.secret): Promise<string> {
    const args = ["create-token", actor, "--secret", secret];
    for (const action of restrict.all ?? []) args.push("--all", action);
    for (const pair of restrict.database ?? []) args.push("--database", ...pair);
    for (const triple of restrict.resource ?? []) args.push("--resource", ...triple);
    const { stdout } = await execFileAsync(DATASETTE_BIN, args, { cwd: this.dir });
    const token = stdout.trim();
    if (!token.startsWith("dstok_")) throw new Error(`datasette create-token printed no token: ${stdout}`);
    return token;
  }

  /** GET a JSON API path as root; throws on an error status. */
  async getJson<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.rootToken}` } });
    const body = await response.text();
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}: ${body.slice(0, 500)}`);
    return JSON.parse(body) as T;
  }

  /** POST JSON to an API path as root (to set up tables, say); throws on an error status. */
  async postJson<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.rootToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  /** Rows of a read-only SQL query (Datasette returns at most 1000). */
  query(sql: string, params: Record<string, string> = {}): Promise<Row[]> {
    const search = new URLSearchParams({ sql, ...params, _shape: "array" });
    return this.getJson<Row[]>(`/${this.database}/-/query.json?${search}`);
  }

  /** `PRAGMA table_info(table)`: the columns as SQLite has them, in order. */
  async columns(table: string): Promise<Column[]> {
    return (await this.query("select name, type, pk from pragma_table_info(:t) order by cid", {
      t: table,
    })) as unknown as Column[];
  }

  async tableExists(table: string): Promise<boolean> {
    const rows = await this.query("select name from sqlite_master where type = 'table' and name = :t", { t: table });
    return rows.length === 1;
  }

  /** Every row of `table`, by primary key, following Datasette's pagination. */
  async rows(table: string): Promise<Row[]> {
    const all: Row[] = [];
    let next: string | null = `/${this.database}/${encodeURIComponent(table)}.json?_shape=objects&_size=max&_sort=id`;
    while (next !== null) {
      const page: { rows: Row[]; next_url: string | null } = await this.getJson(next);
      all.push(...page.rows);
      next = page.next_url === null ? null : new URL(page.next_url).pathname + new URL(page.next_url).search;
    }
    return all;
  }
}

/** Datasette children die with the test process even when a test forgets to stop them. */
const killOnExit = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of killOnExit) child.kill("SIGKILL");
});

/** Whether Datasette's output says it bound `port` itself (uvicorn's line, in 0.65 and 1.0). */
export function listening(output: string, port: number): boolean {
  return output.includes(`Uvicorn running on http://127.0.0.1:${port} `);
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The `n` property of each row, sorted: which numbered events arrived, and how many times each. */
export function numbers(rows: Row[]): number[] {
  return rows.map((row) => (JSON.parse(row.properties as string) as { n: number }).n).sort((a, b) => a - b);
}

/** 0, 1, ... count - 1: the `n` of the events a test put. */
export const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
