import { createRequire } from "node:module";
import type * as NodeRedis from "redis";
import { requireOptional } from "../../core/optional-package.js";
import { APPEND, FRONT, LEASE_CLAIM, LEASE_RELEASE, RATE } from "./scripts.js";
import { COUNT_DEAD, KEEP_DEAD, LIST_DEAD, REMOVE_DEAD } from "./dead-letter-scripts.js";
import { INSPECT, NOTE_DELIVERY } from "./status-scripts.js";

type RedisModule = typeof NodeRedis;
export type ScriptName =
  | "append"
  | "front"
  | "leaseClaim"
  | "leaseRelease"
  | "rate"
  | "keepDead"
  | "listDead"
  | "countDead"
  | "removeDead"
  | "noteDelivery"
  | "inspect";
type Args = ReadonlyArray<string | number>;
/** What this module needs of a node-redis client or cluster client with our scripts defined. */
type ScriptClient = Record<ScriptName, (keys: readonly string[], args: readonly string[]) => Promise<unknown>> & {
  withCommandOptions(options: { timeout: number }): ScriptClient;
  on(event: "error", listener: (error: Error) => void): unknown;
  connect(): Promise<unknown>;
  info(section: string): Promise<string>;
  close(): Promise<void>;
  destroy(): void;
};

let loaded: RedisModule | undefined;

/** Redis answered with an error (out of memory, a read-only replica...): it is reachable but refuses. */
export class RedisRefusal extends Error {
  override name = "RedisRefusal";
}

/** The `redis` package (node-redis), loaded on first use only: it is an optional peer dependency. */
export function loadRedis(option: string): RedisModule {
  loaded ??= requireRedis(option, createRequire(import.meta.url));
  return loaded;
}

/** Loads node-redis with `load`; a failure becomes an OptionError that says what to install. */
export function requireRedis(option: string, load: (id: string) => unknown): RedisModule {
  return requireOptional<RedisModule>(option, "redis", load, "a redis:// spool ", "redis (node-redis)");
}

/** How long a command waits for the first connection while no attempt has failed (a cluster takes a few round trips). */
const FIRST_CONNECT_MS = 10_000;
/** Longest wait between two attempts to reconnect: Redis back means the spool back within a second. */
const MAX_RECONNECT_MS = 1_000;

/**
 * One connection to the spool's Redis (a server, or a Redis Cluster, found out at connect) that
 * runs the spool's scripts, each with a timeout: a command that gets no answer in time rejects,
 * so nothing waits forever on a stalled or unreachable server. Commands sent while disconnected
 * wait (until their timeout) and go when the connection is back. Messages never hold the URL's
 * password.
 */
export class RedisConnection {
  /** The last connection error, in words (scrubbed), or "" while the connection is fine. */
  problem = "";
  private readonly opened: Promise<ScriptClient>;
  /** The client once the first connection is up (commands then wait offline for a reconnect, within their timeout). */
  private live: ScriptClient | undefined;
  /** Rejects at the first connection error: until a first connection is made, commands fail at once after it. */
  private readonly connectFailed: Promise<never>;
  private failConnect: (error: Error) => void = () => {};
  private client: ScriptClient | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly redis: RedisModule = loadRedis("spool"),
  ) {
    this.connectFailed = new Promise<never>((_, reject) => (this.failConnect = reject));
    this.connectFailed.catch(() => {});
    this.opened = this.open(redis);
    this.opened.then((client) => (this.live = client)).catch(() => {}); // a run() or close() sees the failure
  }

  /** Runs a script; rejects with an Error (its message scrubbed) on a Redis error or a timeout. */
  async run(name: ScriptName, keys: readonly string[], args: Args): Promise<unknown> {
    const stringArgs = args.map(String);
    try {
      // A first connection that is still being made (no error yet) gets longer than a command.
      const client =
        this.live ??
        (await withTimeout(
          Promise.race([this.opened, this.connectFailed]),
          FIRST_CONNECT_MS,
          () => "no connection yet",
        ));
      // node-redis's own timeout misses a command queued while a reconnection hangs in its
      // handshake (a server that accepts but never answers): this one does not.
      return await withTimeout(client[name](keys, stringArgs), this.timeoutMs, () => name);
    } catch (error) {
      const message = this.scrub(describe(error));
      throw error instanceof this.redis.ErrorReply
        ? new RedisRefusal(message, { cause: error })
        : new Error(message, { cause: error });
    }
  }

  /** Closes at once if the connection never came up; otherwise lets the commands sent finish. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    if (client === undefined) return;
    this.client = undefined;
    await withTimeout(client.close(), this.timeoutMs, () => "close").catch(() => destroy(client));
  }

  /** A server answering `cluster_enabled:1` is a cluster node: then a cluster client takes over. */
  private async open(redis: RedisModule): Promise<ScriptClient> {
    const scripts = defineScripts(redis);
    const first = this.track(redis.createClient({ ...this.clientOptions(), url: this.url, scripts }));
    await first.connect();
    if (!(await first.info("cluster")).includes("cluster_enabled:1")) return this.ready(first);
    const { username, password, protocol } = new URL(this.url);
    const socket = { ...this.clientOptions().socket, ...(protocol === "rediss:" ? { tls: true as const } : {}) };
    const cluster = this.track(
      redis.createCluster({
        rootNodes: [{ url: this.url }],
        defaults: {
          username: decodeURIComponent(username) || undefined,
          password: decodeURIComponent(password) || undefined,
          socket,
        },
        scripts,
      }),
    );
    await first.close();
    this.client = undefined;
    await cluster.connect();
    return this.ready(cluster);
  }

  private ready(client: ScriptClient): ScriptClient {
    if (this.closed) void client.close().catch(() => destroy(client));
    return client.withCommandOptions({ timeout: this.timeoutMs });
  }

  private track(client: ScriptClient): ScriptClient {
    this.client = client;
    client.on("error", (error) => {
      this.problem = this.scrub(describe(error));
      this.failConnect(new Error(this.problem));
    });
    return client;
  }

  private clientOptions() {
    return {
      socket: {
        connectTimeout: this.timeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_MS),
      },
    };
  }

  /** The URL's password (as written and decoded) never leaves in a message. */
  private scrub(message: string): string {
    let password: string;
    try {
      password = new URL(this.url).password;
    } catch {
      return message;
    }
    if (password === "") return message;
    return message.split(password).join("***").split(decodeURIComponent(password)).join("***");
  }
}

/** Drops the connection now; a client that is closed already has nothing to drop. */
function destroy(client: ScriptClient): void {
  try {
    client.destroy();
  } catch {
    // "The client is closed": nothing left to do.
  }
}

function describe(error: unknown): string {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  if (name === "TimeoutError") return "Redis did not answer in time";
  return message || String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, problem: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms (${problem()})`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the client's own error, passed on
        reject(error);
      },
    );
  });
}

/** The scripts, defined once: node-redis sends EVALSHA, and EVAL when the server has forgotten one (NOSCRIPT, after a restart). */
function defineScripts(redis: RedisModule) {
  const define = (SCRIPT: string, NUMBER_OF_KEYS: number) =>
    redis.defineScript({
      SCRIPT,
      NUMBER_OF_KEYS,
      parseCommand(parser: NodeRedis.CommandParser, keys: readonly string[], args: readonly string[]) {
        for (const key of keys) parser.pushKey(key);
        parser.push(...args);
      },
      transformReply: undefined as unknown as () => NodeRedis.RedisArgument,
    });
  return {
    append: define(APPEND, 4),
    front: define(FRONT, 3),
    leaseClaim: define(LEASE_CLAIM, 1),
    leaseRelease: define(LEASE_RELEASE, 1),
    rate: define(RATE, 1),
    keepDead: define(KEEP_DEAD, 7),
    listDead: define(LIST_DEAD, 2),
    countDead: define(COUNT_DEAD, 2),
    removeDead: define(REMOVE_DEAD, 4),
    noteDelivery: define(NOTE_DELIVERY, 1),
    inspect: define(INSPECT, 5),
  };
}
