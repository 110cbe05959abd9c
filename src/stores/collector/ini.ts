import { OptionError } from "../../core/errors.js";
import type { CollectorOptions } from "./options.js";

/** The keys of an `[event-publisher:NAME]` INI section that describe the collector, as baseplate names them. */
export const COLLECTOR_CONFIG_KEYS = {
  "collector.hostname": "hostname",
  "collector.scheme": "scheme",
  "collector.version": "version",
  "key.name": "keyName",
  "key.secret": "keySecret",
} as const;

/**
 * Maps the collector keys of a parsed `[event-publisher:NAME]` section (flat keys such as
 * `collector.hostname`, as an INI parser returns them) onto option `collector`. Other keys
 * (`metrics.*`, ...) are left to the caller. Returns undefined when the section names no
 * collector. Values are passed on as given (a secret may already be `{ $env }`); eventsForward()
 * validates them, with errors that name `collector.<field>`.
 */
export function collectorOptionsFromConfig(
  section: Record<string, unknown>,
  sectionName?: string,
): CollectorOptions | undefined {
  const found: Record<string, unknown> = {};
  for (const [configKey, field] of Object.entries(COLLECTOR_CONFIG_KEYS)) {
    const value = section[configKey];
    if (value !== undefined && value !== "")
      found[field] = typeof value === "string" && field !== "keySecret" ? value.trim() : value;
  }
  if (Object.keys(found).length === 0) return undefined;
  for (const [configKey, field] of Object.entries(COLLECTOR_CONFIG_KEYS)) {
    if (REQUIRED.has(field) && found[field] === undefined) {
      throw new OptionError(
        sectionName === undefined ? configKey : `[${sectionName}] ${configKey}`,
        "is missing from the publisher section",
      );
    }
  }
  return found as unknown as CollectorOptions;
}

const REQUIRED = new Set<string>(["hostname", "keyName", "keySecret"]);
