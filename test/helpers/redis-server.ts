import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitFor } from "./wait.js";

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 10_000;

export interface RedisServerOptions {
  /** `appendonly yes`, with `appendfsync` (default "always": every acknowledged write is on disk). */
  appendonly?: boolean;
  appendfsync?: "always" | "everysec" | "no";
  /** `maxmemory` (e.g. "4mb"), with `maxmemory-policy noeviction`: writes then fail with OOM. */
  maxmemory?: string;
  /** `requirepass`: clients must give this password (in the URL). */
  password?: string;
  /** Starts a Redis Cluster node (`cluster-enabled yes`). */
  cluster?: boolean;
}

/**
 * A real redis-server (the Debian package: `.ci/run` installs it) on a free loopback port with a
 * fresh data directory. It can be stopped and started again on the same port and directory, to
 * play a restart or an outage.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly dir: string,
    public port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}, dir?: string): Promise<RedisServer> {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), "events-forward-redis-"));
    const server = new RedisServer(dataDir, 0, options);
    // A free port can be taken by someone else before redis binds it: then try another.
    for (let attempt = 1; ; attempt++) {
      server.port = await freePort();
      try {
        await server.serve();
        return server;
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/i.test(server.output)) {
          await server.dispose();
          throw error;
        }
      }
    }
  }

  /** redis://127.0.0.1:PORT (with the password, when there is one). */
  get url(): string {
    const auth = this.options.password === undefined ? "" : `:${encodeURIComponent(this.options.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** The server's process id (0 while stopped). */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Runs redis-cli against this server and returns its output, e.g. cli("LLEN", "x"). */
  async cli(...args: string[]): Promise<string> {
    const auth = this.options.password === undefined ? [] : ["--no-auth-warning", "-a", this.options.password];
    const { stdout } = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", String(this.port), ...auth, ...args]);
    return stdout.trim();
  }

  /** Starts it again on the same port and data directory (after stop()). */
  async restart(): Promise<void> {
    await this.stop();
    await this.serve();
  }

  /** SIGTERM: redis saves (with appendonly, the log is already on disk) and exits. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async serve(): Promise<void> {
    const o = this.options;
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ];
    args.push("--appendonly", o.appendonly ? "yes" : "no");
    if (o.appendonly) args.push("--appendfsync", o.appendfsync ?? "always");
    if (o.maxmemory !== undefined) args.push("--maxmemory", o.maxmemory, "--maxmemory-policy", "noeviction");
    if (o.password !== undefined) args.push("--requirepass", o.password);
    // The cluster bus defaults to port + 10000, which may be taken or past 65535: pick one.
    if (o.cluster)
      args.push(
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(this.dir, "nodes.conf"),
        "--cluster-node-timeout",
        "2000",
        "--cluster-port",
        String(await freePort()),
      );
    this.output = "";
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let exited = false;
    child.once("exit", () => (exited = true));
    child.once("error", (error) => (this.output += String(error)));
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`redis-server exited at start:\n${this.output}`);
          // Ours, not another test's server that took the port first (it would answer PING too).
          const info = await this.cli("INFO", "server").catch(() => "");
          return /process_id:(\d+)/.exec(info)?.[1] === String(child.pid);
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 20, what: `redis-server on port ${this.port}` },
      );
    } catch (error) {
      if (!exited) child.kill("SIGKILL");
      this.child = undefined;
      throw error;
    }
  }
}

/** Three masters, no replicas: every slot served, as `redis-cli --cluster create` makes it. */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly root: string,
  ) {}

  /** `password`: every node requires it (`requirepass`). */
  static async start(size = 3, password?: string): Promise<RedisCluster> {
    const root = mkdtempSync(join(tmpdir(), "events-forward-redis-cluster-"));
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const dir = join(root, `node-${i}`);
        mkdirSync(dir);
        nodes.push(await RedisServer.start({ cluster: true, ...(password === undefined ? {} : { password }) }, dir));
      }
      const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
      await execFileAsync("redis-cli", [
        "--cluster",
        "create",
        ...addresses,
        "--cluster-replicas",
        "0",
        "--cluster-yes",
        ...(password === undefined ? [] : ["--no-auth-warning", "-a", password]),
      ]);
      const cluster = new RedisCluster(nodes, root);
      await waitFor(
        async () =>
          (await Promise.all(nodes.map((node) => node.cli("CLUSTER", "INFO")))).every((info) =>
            info.includes("cluster_state:ok"),
          ),
        {
          timeoutMs: 15_000,
          intervalMs: 50,
          what: "the cluster to serve every slot",
        },
      );
      return cluster;
    } catch (error) {
      for (const node of nodes) await node.dispose();
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** The URL of one node: a cluster client finds the others from it. */
  get url(): string {
    return this.nodes[0]!.url;
  }

  async dispose(): Promise<void> {
    for (const node of this.nodes) await node.dispose();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
