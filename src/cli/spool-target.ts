import { existsSync } from "node:fs";
import { OptionError } from "../core/errors.js";
import { loadPublisherConfig } from "../config/ini.js";
import { resolveOptions } from "../config/resolve.js";
import { DEFAULTS } from "../config/option-defaults.js";

/** The spool a CLI command works on, and the delivery settings that say its capacity. */
export interface SpoolTarget {
  path: string;
  batchLimit: number;
  maxRate: number;
  /** Seconds. */
  timePeriod: number;
  /** Whether the settings came from a configuration (false: --spool alone, the defaults). */
  configured: boolean;
}

/** `--queue-name NAME CONFIG` (the sidecar's section) or `--spool PATH`; an OptionError otherwise. */
export function spoolTarget(
  values: { "queue-name"?: string; spool?: string },
  config: string | undefined,
): SpoolTarget {
  const target = readTarget(values, config);
  // Opening a path that is not there would make an empty spool: a typo would look like "nothing waiting".
  if (!existsSync(target.path))
    throw new OptionError(values.spool !== undefined ? "--spool" : "spool", `there is no spool file at ${target.path}`);
  return target;
}

function readTarget(values: { "queue-name"?: string; spool?: string }, config: string | undefined): SpoolTarget {
  if (values.spool !== undefined) {
    if (config !== undefined || values["queue-name"] !== undefined)
      throw new OptionError("--spool", "give either --spool PATH or --queue-name NAME CONFIG, not both");
    return {
      path: values.spool,
      batchLimit: DEFAULTS.batchLimit,
      maxRate: DEFAULTS.maxRate,
      timePeriod: DEFAULTS.timePeriod,
      configured: false,
    };
  }
  if (config === undefined || values["queue-name"] === undefined)
    throw new OptionError(
      "--queue-name",
      "give --queue-name NAME CONFIG (the sidecar's configuration) or --spool PATH",
    );
  const options = resolveOptions({
    ...loadPublisherConfig(config, values["queue-name"]),
    logger: false,
    requestEvents: false,
  });
  // The operator commands read SQLite spools; a Redis spool's inspector is for later.
  if (options.spool?.kind !== "sqlite")
    throw new OptionError("spool", "dead-letters and status read a SQLite spool file; this section's spool is not one");
  return {
    path: options.spool.path,
    batchLimit: options.batchLimit,
    maxRate: options.maxRate,
    timePeriod: options.timePeriod,
    configured: true,
  };
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
