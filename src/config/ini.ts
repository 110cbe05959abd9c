import { readFileSync } from "node:fs";
import { parse as parseIni } from "ini";
import { OptionError } from "../core/errors.js";
import type { OptionDeclaration } from "../core/option-spec.js";
import { storeKinds } from "../stores/table.js";
import { SPOOL_DEFAULTS } from "./defaults.js";
import { GENERAL_OPTIONS } from "./option-table.js";
import type { EventsForwardOptions } from "./options.js";
import { KNOWN_OPTIONS } from "./resolve.js";
import { isRedisSpool } from "./redis-spool-options.js";

/** A section read: the options, and where each came from, so errors name the INI key as the user wrote it. */
export interface PublisherConfig {
  options: EventsForwardOptions;
  /** `[event-publisher:NAME] key` for an option name as OptionError gives it (`maxRate`, `spool.leaseMs`, `collector.keyName`). */
  whereIs(option: string): string | undefined;
}

/**
 * The sidecar's configuration: the section `[event-publisher:NAME]` of an INI file (or the same
 * key in a JSON file), as baseplate's publisher reads it. Keys are the forwarder's options in
 * snake_case (api_url, api_token, max_rate, ...), plus `spool`, `spool.*`, `metrics.namespace`,
 * `metrics.endpoint`, and the collector's `collector.*` / `key.*`. `${NAME}` in a value is read
 * from the environment, so secrets stay out of the file.
 */
export function loadPublisherConfig(
  file: string,
  queueName: string,
  env: NodeJS.ProcessEnv = process.env,
): EventsForwardOptions {
  return readPublisherConfig(file, queueName, env).options;
}

/**
 * As loadPublisherConfig, with where each option came from. `spoolOnly` (the CLI's status and
 * dead-letters, which never talk to the store): a `${NAME}` that is not set is left as written
 * outside the spool's keys, so the store's secret is not needed to work on the spool.
 */
export function readPublisherConfig(
  file: string,
  queueName: string,
  env: NodeJS.ProcessEnv = process.env,
  spoolOnly = false,
): PublisherConfig {
  if (!/^[\w-]+$/.test(queueName))
    throw new OptionError(
      "--queue-name",
      "must be letters, digits, _ or - (it names the section [event-publisher:NAME])",
    );
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new OptionError("CONFIG", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const data = parseConfig(file, text);
  const sectionName = `event-publisher:${queueName}`;
  const section = data[sectionName];
  if (section === null || typeof section !== "object" || Array.isArray(section)) {
    const found = Object.keys(data).filter((key) => key.startsWith("event-publisher:"));
    throw new OptionError(
      "--queue-name",
      `${file} has no section [${sectionName}]${found.length > 0 ? ` (it has ${found.map((s) => `[${s}]`).join(", ")})` : ""}`,
    );
  }
  return readSection(section as Record<string, unknown>, sectionName, env, spoolOnly);
}

/**
 * Runs `make` (eventsForward() on the options, say) and turns an OptionError about an option that
 * came from the file into one that names the INI key as written: `[event-publisher:main] max_rate`.
 */
export function withIniKeys<T>(config: PublisherConfig, make: () => T): T {
  try {
    return make();
  } catch (error) {
    const where = error instanceof OptionError ? config.whereIs(error.option) : undefined;
    if (where === undefined) throw error;
    throw new OptionError(where, (error as OptionError).problem, { cause: error });
  }
}

function parseConfig(file: string, text: string): Record<string, unknown> {
  if (file.endsWith(".json") || text.trimStart().startsWith("{")) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      // JSON.parse's message quotes the text around the error, which can be an inline secret.
      throw new OptionError("CONFIG", `${file} is not valid JSON${jsonErrorPlace(text)}`);
    }
  }
  return parseIni(text);
}

/** Every option's declaration (the general table's and each store's own): how the INI reads it. */
const DECLARED: [string, OptionDeclaration][] = [
  ...Object.entries(GENERAL_OPTIONS),
  ...storeKinds().flatMap(([, kind]) => Object.entries(kind.options)),
];
/** Options a configuration file may not set: functions, and what only an app's middleware uses. */
const NOT_FROM_CONFIG = new Set(DECLARED.filter(([, spec]) => spec.ini === false).map(([name]) => name));
const NUMERIC = new Set(DECLARED.filter(([, spec]) => spec.ini === "number").map(([name]) => name));
const SPOOL_NUMERIC = new Set(
  Object.entries(SPOOL_DEFAULTS)
    .filter(([, value]) => typeof value === "number")
    .map(([key]) => key),
);
// key and allowPrivateNetwork: the Redis spool's
const SPOOL_KEYS = new Set(["path", "key", "allowPrivateNetwork", ...Object.keys(SPOOL_DEFAULTS)]);
const METRICS_KEYS = new Set(["namespace", "endpoint"]);
/** The keys only one store reads (collector.hostname, key.secret, ...), from the table of store kinds. */
const STORE_INI = storeKinds().flatMap(([, kind]) => (kind.ini === undefined ? [] : [kind.ini]));
const STORE_INI_KEYS: Record<string, string> = Object.assign({}, ...STORE_INI.map((ini) => ini.keys)) as Record<
  string,
  string
>;

export function sectionToOptions(
  section: Record<string, unknown>,
  sectionName: string,
  env: NodeJS.ProcessEnv,
): EventsForwardOptions {
  return readSection(section, sectionName, env).options;
}

function readSection(
  section: Record<string, unknown>,
  sectionName: string,
  env: NodeJS.ProcessEnv,
  spoolOnly = false,
): PublisherConfig {
  const written = new Map<string, string>();
  const options: Record<string, unknown> = {};
  const spool: Record<string, unknown> = {};
  const metrics: Record<string, unknown> = {};
  const storeKeys: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(section)) {
    const where = `[${sectionName}] ${key}`;
    const value = interpolate(where, raw, env, spoolOnly && key !== "spool" && !key.startsWith("spool."));
    const [head, ...rest] = key.split(".");
    const sub = camel(rest.join("."));
    if ((key === "spool" || key === "metrics") && isObject(value))
      Object.assign(key === "spool" ? spool : metrics, value); // JSON
    else if (key === "spool") {
      const field = isRedisSpool(value) ? "url" : "path"; // a redis:// URL, or a file
      spool[field] = value;
      written.set("spool", where).set(`spool.${field}`, where);
    } else if (head === "spool" && sub !== "") {
      if (!SPOOL_KEYS.has(sub))
        throw new OptionError(
          where,
          `is not a known key (spool keys: ${[...SPOOL_KEYS]
            .filter((k) => k !== "path")
            .map(snake)
            .map((k) => `spool.${k}`)
            .join(", ")})`,
        );
      spool[sub] = SPOOL_NUMERIC.has(sub) ? number(where, value) : value;
      written.set(`spool.${sub}`, where);
    } else if (head === "metrics" && sub !== "") {
      if (!METRICS_KEYS.has(sub))
        throw new OptionError(where, "is not a known key (metrics keys: metrics.namespace, metrics.endpoint)");
      metrics[sub] = value;
      written.set(`metrics.${sub}`, where);
    } else if (STORE_INI_KEYS[key] !== undefined) {
      storeKeys[key] = value;
      written.set(STORE_INI_KEYS[key], where);
    } else {
      const option = camel(key);
      if (NOT_FROM_CONFIG.has(option)) throw new OptionError(where, "cannot be set in the publisher's configuration");
      if (!KNOWN_OPTIONS.has(option)) throw new OptionError(where, `is not a known key${nearKey(option)}`);
      options[option] = NUMERIC.has(option) ? number(where, value) : value;
      written.set(option, where);
    }
  }
  if (spool.path === undefined && spool.url === undefined)
    throw new OptionError(
      `[${sectionName}] spool`,
      "is required: the spool the apps write to, e.g. spool = /var/lib/myapp/events-spool.db or spool = redis://redis:6379/0",
    );
  options.spool = spool;
  if (Object.keys(metrics).length > 0) options.metrics = metrics;
  // Each store's own mapping (the collector's: collector.hostname → hostname, key.secret → keySecret, ...).
  for (const ini of STORE_INI) {
    const made = ini.read(storeKeys, sectionName);
    if (made !== undefined) options[made.option] = made.value;
  }
  return { options, whereIs: (option) => written.get(option) };
}

/** " (did you mean max_rate?)" when the key is a known option but for case or separators. */
function nearKey(option: string): string {
  const flat = option.toLowerCase().replace(/[_-]/g, "");
  const near = [...KNOWN_OPTIONS].find((known) => known.toLowerCase() === flat && !NOT_FROM_CONFIG.has(known));
  return near === undefined ? "" : ` (did you mean ${snake(near)}?)`;
}

/** maxRate → max_rate, as the INI keys are written. */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `${NAME}` is the environment variable NAME; errors name the key and the variable, never a value. */
function interpolate(where: string, value: unknown, env: NodeJS.ProcessEnv, unsetIsFine = false): unknown {
  if (typeof value !== "string") return value;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (written, name: string) => {
    const found = env[name];
    if ((found === undefined || found === "") && unsetIsFine) return written;
    if (found === undefined || found === "") throw new OptionError(where, `environment variable ${name} is not set`);
    return found;
  });
}

function number(where: string, value: unknown): number {
  const parsed =
    typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed)) throw new OptionError(where, "must be a number");
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** api_url → apiUrl; camelCase stays as it is. */
function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Where the JSON text stops parsing, as "line L, column C", found without quoting any of it:
 * JSON.parse's message gives the position, or (when it quotes the text instead) the longest
 * prefix whose only fault is ending too soon does.
 */
function jsonErrorPlace(text: string): string {
  const position = firstBadPosition(text);
  if (position === undefined) return "";
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return ` (line ${line}, column ${column}; the text around it is not repeated here: it may hold a secret)`;
}

function firstBadPosition(text: string): number | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message);
    if (at) return Number(at[1]);
  }
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (endsEarly(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return good;
}

/** True when the text's only fault is that it ends too soon. */
function endsEarly(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    return at ? Number(at[1]) >= prefix.length : /end of (JSON )?input|Unterminated/i.test(message);
  }
}
