import type { OptionReader } from "./checks.js";

/** The sections of docs/configuration.md an option's row is listed in. */
export const OPTION_GROUPS = {
  store: "The store",
  rows: "The rows",
  requests: "Requests",
  batching: "Batching and rate",
  retries: "Retries and time-outs",
  queue: "The queue",
  reporting: "Reporting and shutdown",
} as const;

/** One row of docs/configuration.md's option tables (generated: `npm run docs:options`). */
export interface OptionDoc {
  readonly group: keyof typeof OPTION_GROUPS;
  /** The default as the table shows it (with its unit, and each store's where they differ). */
  readonly default: string;
  /** The values it takes (range and unit). */
  readonly range: string;
  /** What it does. */
  readonly meaning: string;
}

/**
 * How an option is declared, once: its doc row, its constant default (where it has one: DEFAULTS
 * is made of these), and how the sidecar's `[event-publisher:NAME]` section reads it: a number,
 * the value as written, or not at all (functions, and what only an app's middleware uses).
 */
export interface OptionDeclaration {
  readonly doc: OptionDoc;
  readonly default?: number | boolean | string;
  readonly ini: "number" | "as written" | false;
}

/** An option of the general table: its declaration and its check, which returns the resolved value. */
export interface OptionSpec<T = unknown> extends OptionDeclaration {
  check(read: OptionReader, context: CheckContext): T;
}

/** What a check may need besides the options: the store's bound on a batch. */
export interface CheckContext {
  readonly maxBatchLimit: number;
}

/** The resolved value of every option of a table, keyed as the table is. */
export type ResolvedTable<T extends Record<string, OptionSpec>> = { [K in keyof T]: ReturnType<T[K]["check"]> };

/** Runs every check of a table, in the table's order (so the first bad option is reported first). */
export function checkTable<T extends Record<string, OptionSpec>>(
  table: T,
  read: OptionReader,
  context: CheckContext,
): ResolvedTable<T>;
export function checkTable(
  table: Record<string, OptionSpec>,
  read: OptionReader,
  context: CheckContext,
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) resolved[name] = spec.check(read, context);
  return resolved;
}

/** The constant defaults of a table (the options that have one), keyed by option. */
export type DefaultsOf<T> = {
  -readonly [K in keyof T as T[K] extends { readonly default: unknown } ? K : never]: T[K] extends {
    readonly default: infer D;
  }
    ? D extends number
      ? number
      : D extends boolean
        ? boolean
        : string
    : never;
};

export function defaultsOf<T extends Record<string, OptionDeclaration>>(table: T): DefaultsOf<T>;
export function defaultsOf(table: Record<string, OptionDeclaration>): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) if (spec.default !== undefined) defaults[name] = spec.default;
  return defaults;
}
