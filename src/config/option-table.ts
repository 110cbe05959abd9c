import type { OptionSpec, ResolvedTable } from "../core/option-spec.js";
import { DELIVERY_OPTIONS } from "./options-delivery.js";
import { RECORDING_OPTIONS } from "./options-recording.js";

export type { AppRequest } from "./options-recording.js";

/**
 * Every option that is not a store's own, declared once: its row in docs/configuration.md (made
 * from this table by `npm run docs:options`), its constant default (DEFAULTS is made of these),
 * how the sidecar's INI reads it, and its check (the vocabulary of core/checks.ts), which returns
 * the resolved value. The option's type and hover text are in config/options.ts
 * (`GeneralOptions`, one entry per key of this table: the compiler checks both ways). A store's
 * own options live in its folder (stores/<store>/options.ts) and are reached through STORE_KINDS.
 * The order is the order of the checks: the first bad option is the one reported. Declared in two
 * parts: what is recorded (options-recording.ts) and how it travels (options-delivery.ts).
 */
export const GENERAL_OPTIONS = { ...RECORDING_OPTIONS, ...DELIVERY_OPTIONS } satisfies Record<string, OptionSpec>;

/** Every general option, checked: what the root and the pipeline read. */
export type ResolvedGeneral = ResolvedTable<typeof GENERAL_OPTIONS>;
