import { existsSync } from "node:fs";
import { OptionError } from "../core/errors.js";
import { readPublisherConfig } from "../config/ini.js";
import { resolveOptions } from "../config/resolve.js";
import { DEFAULTS } from "../config/option-defaults.js";
import { isRedisSpool, resolveRedisSpoolOptions } from "../config/redis-spool-options.js";
import { resolveSpoolOptions } from "../config/spool-options.js";
import type { EventsForwardOptions } from "../config/options.js";

/** The spool a CLI command works on, and the delivery settings that say its capacity. */
export interface SpoolTarget {
  /** How messages name it: the file's path, or redis://host:port/db (key NAME), never a password. */
  name: string;
  /** A SQLite spool: its file. */
  path?: string;
  /** A Redis spool: its URL (with the password: for the client only) and key. */
  redis?: { url: string; key: string };
  batchLimit: number;
  maxRate: number;
  /** Seconds. */
  timePeriod: number;
  /** Whether the settings came from a configuration (false: --spool alone, the defaults). */
  configured: boolean;
}

export interface TargetValues {
  "queue-name"?: string;
  spool?: string;
  key?: string;
}

/**
 * `--queue-name NAME CONFIG` (the sidecar's section), `--spool PATH` or `--spool redis://...`
 * (with `--key NAME`); an OptionError otherwise. `spoolOnly`: the command never talks to the
 * store, so the store's secret need not be set.
 */
export function spoolTarget(values: TargetValues, config: string | undefined, spoolOnly = false): SpoolTarget {
  const target = readTarget(values, config, spoolOnly);
  // Opening a path that is not there would make an empty spool: a typo would look like "nothing waiting".
  if (target.path !== undefined && !existsSync(target.path))
    throw new OptionError(values.spool !== undefined ? "--spool" : "spool", `there is no spool file at ${target.path}`);
  return target;
}

const DEFAULT_SETTINGS = {
  batchLimit: DEFAULTS.batchLimit,
  maxRate: DEFAULTS.maxRate,
  timePeriod: DEFAULTS.timePeriod,
  configured: false,
};

function readTarget(values: TargetValues, config: string | undefined, spoolOnly: boolean): SpoolTarget {
  if (values.spool !== undefined) {
    if (config !== undefined || values["queue-name"] !== undefined)
      throw new OptionError("--spool", "give either --spool PATH|URL or --queue-name NAME CONFIG, not both");
    if (isRedisSpool(values.spool))
      return { ...where({ url: values.spool, key: values.key }, "--spool"), ...DEFAULT_SETTINGS };
    if (values.key !== undefined)
      throw new OptionError("--key", "names the key of a Redis spool: give it with --spool redis://...");
    return { name: values.spool, path: values.spool, ...DEFAULT_SETTINGS };
  }
  if (config === undefined || values["queue-name"] === undefined)
    throw new OptionError(
      "--queue-name",
      "give --queue-name NAME CONFIG (the sidecar's configuration) or --spool PATH|URL",
    );
  if (values.key !== undefined)
    throw new OptionError("--key", "is for --spool redis://...; with --queue-name the section's spool.key counts");
  const options = readPublisherConfig(config, values["queue-name"], process.env, spoolOnly).options;
  const spool = options.spool!;
  const place = isRedisSpool(spool)
    ? where(spool, "spool")
    : { name: resolveSpoolOptions(spool).path, path: resolveSpoolOptions(spool).path };
  return { ...place, ...settings(options, spoolOnly) };
}

/** A Redis spool's URL and key, and its name for messages. */
function where(spool: unknown, option: string): Pick<SpoolTarget, "name" | "redis"> {
  let resolved;
  try {
    resolved = resolveRedisSpoolOptions(typeof spool === "string" ? { url: spool } : spool);
  } catch (error) {
    if (!(error instanceof OptionError) || option === "spool") throw error;
    throw new OptionError(error.option === "spool.key" ? "--key" : option, error.problem, { cause: error });
  }
  return { name: `${resolved.where} (key ${resolved.key})`, redis: { url: resolved.url, key: resolved.key } };
}

/** The section's delivery settings, with the store's defaults. */
function settings(options: EventsForwardOptions, spoolOnly: boolean) {
  try {
    const o = resolveOptions({ ...options, logger: false, requestEvents: false });
    return { batchLimit: o.batchLimit, maxRate: o.maxRate, timePeriod: o.timePeriod, configured: true };
  } catch (error) {
    // Working on the spool only, a store option that cannot resolve without its unset variables does not matter:
    // the section's own settings count, over the defaults.
    if (!spoolOnly || !(error instanceof OptionError)) throw error;
    return {
      batchLimit: options.batchLimit ?? DEFAULTS.batchLimit,
      maxRate: options.maxRate ?? DEFAULTS.maxRate,
      timePeriod: options.timePeriod ?? DEFAULTS.timePeriod,
      configured: true,
    };
  }
}

/** `--since`: an ISO 8601 time, or a duration back from now (30s, 15m, 2h, 7d). */
export function parseSince(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const duration = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value.trim());
  if (duration)
    return (
      now -
      Number(duration[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as "s" | "m" | "h" | "d"]
    );
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new OptionError(
      "--since",
      `must be an ISO 8601 time or a duration such as 15m, 2h or 7d, got ${JSON.stringify(value)}`,
    );
  return at;
}
