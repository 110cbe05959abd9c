import { defaultsOf } from "../core/option-spec.js";
import { SQLITE_STORE_OPTIONS } from "../stores/sqlite/options.js";
import { GENERAL_OPTIONS } from "./option-table.js";

/**
 * Every option's constant default, collected from where each option is declared
 * (config/option-table.ts, and the embedded store's `database`); docs/configuration.md lists
 * each. A store's own defaults (SINK_DEFAULTS, config/defaults.ts) merge over DEFAULTS once, for
 * every option.
 */
export const DEFAULTS = { ...defaultsOf(GENERAL_OPTIONS), ...defaultsOf(SQLITE_STORE_OPTIONS) };

export type Defaults = typeof DEFAULTS;
