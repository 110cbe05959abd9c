import { OptionError } from "../core/errors.js";
import { isBag, OptionReader } from "../core/checks.js";
import { SPOOL_DEFAULTS } from "./defaults.js";
import { readLeaseTiming } from "./lease-timing.js";
import { looksLikeUrl } from "./redis-spool-options.js";

/** Option `spool`: a path, or the path and its tuning. */
export interface SpoolOptions {
  /** The spool's SQLite file; every process that shares it shares one outbox. */
  path: string;
  /** Longest a put() waits in memory before its transaction commits; 0 commits in put(). */
  groupCommitMs?: number;
  /** Most events the spool holds (all processes together); more throw EventQueueFullError. */
  maxEvents?: number;
  /** How long the publisher lease lasts without a heartbeat; another process takes over after it. */
  leaseMs?: number;
  /** How often the publisher looks for events other processes wrote. */
  pollMs?: number;
  /** "normal" survives a killed process; "full" also survives power loss, at an fsync per commit. */
  synchronous?: "normal" | "full";
  /** Most dropped events the spool keeps as dead letters; past it, the oldest go. */
  maxDeadLetters?: number;
}

/** Which queue kind (src/spool/kinds.ts) holds the spool. */
export type ResolvedSpoolOptions = Required<SpoolOptions> & { kind: "sqlite" };

const NOT_A_PATH =
  'looks like a URL, not a file path: a Redis spool is { url: "redis://..." } (the value is not repeated here: it may hold a password)';

const SPOOL_KEYS = new Set(["path", ...Object.keys(SPOOL_DEFAULTS)]);

export function resolveSpoolOptions(value: unknown): ResolvedSpoolOptions {
  const given = typeof value === "string" ? { path: value } : value;
  if (!isBag(given)) {
    throw new OptionError(
      "spool",
      "must be a file path or { path, groupCommitMs?, maxEvents?, leaseMs?, pollMs?, synchronous? }",
    );
  }
  const read = new OptionReader(given, SPOOL_DEFAULTS, "spool.");
  read.onlyKnown(SPOOL_KEYS, "a spool option");
  if (typeof given.path !== "string" || given.path.trim() === "")
    throw new OptionError("spool.path", "must be a non-empty file path");
  if (looksLikeUrl(given.path)) throw new OptionError("spool.path", NOT_A_PATH);
  if (given.path === ":memory:")
    throw new OptionError("spool.path", "must be a file: an in-memory spool would not outlive the process");
  return {
    kind: "sqlite",
    path: given.path,
    groupCommitMs: read.int("groupCommitMs", 0, 60_000),
    maxEvents: read.int("maxEvents", 1, 1_000_000_000),
    ...readLeaseTiming(read),
    synchronous: read.oneOf("synchronous", ["normal", "full"] as const),
    maxDeadLetters: read.int("maxDeadLetters", 1, 1_000_000_000),
  };
}
