import { OptionError } from "../core/errors.js";

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

export const SPOOL_DEFAULTS = {
  groupCommitMs: 5,
  maxEvents: 100_000,
  leaseMs: 5_000,
  pollMs: 250,
  synchronous: "normal",
  maxDeadLetters: 100_000,
} as const;

const SPOOL_KEYS = new Set(["path", ...Object.keys(SPOOL_DEFAULTS)]);

export function resolveSpoolOptions(value: unknown): ResolvedSpoolOptions {
  const given = typeof value === "string" ? { path: value } : value;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new OptionError("spool", 'must be a file path or { path, groupCommitMs?, maxEvents?, leaseMs?, pollMs?, synchronous? }');
  }
  const o = given as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!SPOOL_KEYS.has(key)) throw new OptionError(`spool.${key}`, "is not a spool option");
  if (typeof o.path !== "string" || o.path.trim() === "") throw new OptionError("spool.path", "must be a non-empty file path");
  if (o.path === ":memory:") throw new OptionError("spool.path", "must be a file: an in-memory spool would not outlive the process");
  const synchronous = o.synchronous ?? SPOOL_DEFAULTS.synchronous;
  if (synchronous !== "normal" && synchronous !== "full") throw new OptionError("spool.synchronous", 'must be "normal" or "full"');
  const leaseMs = whole(o, "leaseMs", 100, 3_600_000);
  return {
    kind: "sqlite",
    path: o.path,
    groupCommitMs: whole(o, "groupCommitMs", 0, 60_000),
    maxEvents: whole(o, "maxEvents", 1, 1_000_000_000),
    leaseMs,
    pollMs: whole(o, "pollMs", 1, leaseMs),
    synchronous,
    maxDeadLetters: whole(o, "maxDeadLetters", 1, 1_000_000_000),
  };
}

function whole(o: Record<string, unknown>, key: keyof typeof SPOOL_DEFAULTS, min: number, max: number): number {
  const value = o[key] ?? SPOOL_DEFAULTS[key];
  if (typeof value !== "number" || !Number.isInteger(value)) throw new OptionError(`spool.${key}`, "must be a whole number");
  if (value < min || value > max) throw new OptionError(`spool.${key}`, `must be between ${min} and ${max}, got ${value}`);
  return value;
}
