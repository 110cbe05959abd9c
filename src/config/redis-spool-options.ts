import { OptionError } from "../core/errors.js";
import { resolveSecret, type Secret } from "../core/secret.js";
import { isBag, OptionReader } from "../core/checks.js";
import { SPOOL_DEFAULTS } from "./defaults.js";
import { readLeaseTiming } from "./spool-options.js";

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
}

export const REDIS_KEY_DEFAULT = "events-forward";
const KEYS = new Set(["url", "key", "groupCommitMs", "maxEvents", "leaseMs", "pollMs"]);

/** A spool given as a redis:// or rediss:// URL, or as an object with a `url` (a path means SQLite). */
export function isRedisSpool(value: unknown): boolean {
  if (typeof value === "string") return /^rediss?:\/\//i.test(value);
  return value !== null && typeof value === "object" && "url" in value;
}

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
  return {
    kind: "redis",
    url,
    where: redisWhere(url),
    key,
    groupCommitMs: read.int("groupCommitMs", 0, 60_000),
    maxEvents: read.int("maxEvents", 1, 1_000_000_000),
    ...readLeaseTiming(read),
  };
}

/** redis://host:port/db from a URL; an OptionError that never repeats the URL (it may hold a password). */
export function redisWhere(url: string): string {
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
