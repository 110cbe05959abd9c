import { OptionError } from "../core/errors.js";
import { resolveSecret, type Secret } from "../core/secret.js";
import { isBag, OptionReader } from "../core/checks.js";
import { SPOOL_DEFAULTS } from "./defaults.js";
import { readLeaseTiming } from "./lease-timing.js";
import { isLoopbackHost } from "../core/transport-security.js";

/** Option `spool` for the Redis spool: a redis:// or rediss:// URL, or the URL and its tuning. */
export interface RedisSpoolOptions {
  /** redis://[user:password@]host:port/db, or rediss:// for TLS; a secret (it may hold a password). */
  url: Secret;
  /** Names the spool's keys (`{key}:events`, ...): processes that share URL and key share one outbox. */
  key?: string;
  /** Longest a put() waits in memory before its group is sent to Redis (one round trip a group). */
  groupCommitMs?: number;
  /** Most events the spool holds, the whole fleet together; checked by Redis with every append. */
  maxEvents?: number;
  /** How long the publisher lease lasts without a renewal; another process takes over after it. */
  leaseMs?: number;
  /** How often each process renews or tries the lease and looks for events others wrote. */
  pollMs?: number;
  /** Most dead letters the spool keeps (the fleet's); past it the oldest go. */
  maxDeadLetters?: number;
  /**
   * The network to the Redis host is private and trusted: a user or password may cross it over
   * plain redis://. Without it, credentials go over rediss:// only, or to this machine.
   */
  allowPrivateNetwork?: boolean;
}

export interface ResolvedRedisSpoolOptions {
  readonly kind: "redis";
  /** The URL with its password: give it to the client only, never to a message. */
  readonly url: string;
  /** The URL without user or password, for messages: redis://host:port/db. */
  readonly where: string;
  readonly key: string;
  readonly groupCommitMs: number;
  readonly maxEvents: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly maxDeadLetters: number;
}

export const REDIS_KEY_DEFAULT = "events-forward";
const KEYS = new Set([
  "url",
  "key",
  "groupCommitMs",
  "maxEvents",
  "leaseMs",
  "pollMs",
  "maxDeadLetters",
  "allowPrivateNetwork",
]);

/**
 * A spool given as a URL (a redis:// or rediss:// one, or what looks like a mistyped one), or as an
 * object with a `url`; anything else is a SQLite file's path.
 */
export function isRedisSpool(value: unknown): boolean {
  if (typeof value === "string") return looksLikeUrl(value);
  return value !== null && typeof value === "object" && "url" in value;
}

/**
 * Does this text look like a URL rather than a file path: a scheme (`redis:`, `http:`), a scheme
 * missing its colon (`rediss//`), an `@` before a host and port or after a password (`user:pw@host`), with no `/` before it, or a URL
 * with spaces around it? Such a text is never taken for a file: a typo in a Redis URL would
 * otherwise create a SQLite file named with its password. A Windows drive (`C:\`) is a path.
 */
export function looksLikeUrl(text: string): boolean {
  const trimmed = text.trim();
  if (/^[a-z]:[\\/]/i.test(trimmed)) return false;
  return (
    /^[a-z][a-z0-9+.-]*:/i.test(trimmed) ||
    /^[a-z][a-z0-9+.-]*\/\//i.test(trimmed) ||
    /^[^/\\]*@[\w.-]+:\d+(\/\d*)?$/.test(trimmed) || // user@host:6379
    /^[^/\\]*:[^/\\]*@[\w.-]+$/.test(trimmed) // user:password@host
  );
}

/** Never repeats the value: it may hold a password. */
const NOT_A_REDIS_URL =
  "must start with redis:// or rediss:// (redis://[user:password@]host:port/db, no spaces around it): " +
  "this looks like a mistyped URL, and a SQLite spool is a file path";

export function resolveRedisSpoolOptions(
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRedisSpoolOptions {
  const given = typeof value === "string" ? { url: value } : isBag(value) ? value : {};
  const read = new OptionReader(given, { ...SPOOL_DEFAULTS, key: REDIS_KEY_DEFAULT }, "spool.");
  read.onlyKnown(KEYS, "an option of the Redis spool");
  const url = resolveSecret("spool.url", given.url, env);
  // Braces would end the hash tag that keeps every key of the spool in one Redis Cluster slot.
  const key = read.raw("key");
  if (typeof key !== "string" || !/^[\w.:-]{1,100}$/.test(key))
    throw new OptionError("spool.key", "must be 1 to 100 letters, digits or _ . : -");
  const where = redisWhere(url);
  const allowPrivateNetwork = given.allowPrivateNetwork === undefined ? false : read.bool("allowPrivateNetwork");
  assertRedisTransport(new URL(url), allowPrivateNetwork);
  return {
    kind: "redis",
    url,
    where,
    key,
    groupCommitMs: read.int("groupCommitMs", 0, 60_000),
    maxEvents: read.int("maxEvents", 1, 1_000_000_000),
    ...readLeaseTiming(read),
    maxDeadLetters: read.int("maxDeadLetters", 1, 1_000_000_000),
  };
}

/**
 * As for the Datasette URL (config/transport-security.ts): a user or password over plain redis://
 * only to this machine, unless the app says the network is private; rediss:// otherwise.
 */
function assertRedisTransport(url: URL, allowPrivateNetwork: boolean): void {
  const credentials = url.username !== "" || url.password !== "";
  if (url.protocol !== "redis:" || !credentials || allowPrivateNetwork || isLoopbackHost(url.hostname)) return;
  throw new OptionError(
    "spool.url",
    `would send the Redis credentials and every event over plain redis:// to ${url.hostname}, which is not this machine: ` +
      "use rediss:// (TLS), or set spool.allowPrivateNetwork: true (in the spool's object form) if the network between them is private and trusted",
  );
}

/** redis://host:port/db from a URL; an OptionError that never repeats the URL (it may hold a password). */
export function redisWhere(url: string): string {
  // new URL() forgives spaces around it and a missing `//`: a typo there is refused, not guessed.
  if (!/^rediss?:\/\/\S+$/i.test(url)) throw new OptionError("spool.url", NOT_A_REDIS_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptionError(
      "spool.url",
      "is not a valid URL (expected redis://[user:password@]host:port/db or rediss://...)",
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new OptionError("spool.url", `must start with redis:// or rediss://, not ${parsed.protocol}//`);
  if (parsed.hostname === "") throw new OptionError("spool.url", "has no host");
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new OptionError("spool.url", "must end in a database number (/0) or nothing after the port");
  return `${parsed.protocol}//${parsed.host}${db === "" ? "" : `/${db}`}`;
}
