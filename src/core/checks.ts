import { OptionError } from "./errors.js";
import { resolveSecret } from "./secret.js";

/**
 * The one vocabulary of option checks: every option, spool option, collector option and metrics
 * option is read through an OptionReader, so each failure names the option as the user wrote it
 * (`maxRate`, `spool.leaseMs`, `collector.keyName`) and a missing value takes its default from
 * the one bag of defaults the reader was given.
 */
export type Bag = Record<string, unknown>;

export class OptionReader {
  constructor(
    /** The options as given: any object (read with Reflect.get, so an options interface needs no index signature). */
    private readonly given: object,
    private readonly defaults: Bag = {},
    /** Prefix of the names errors give: "spool." for the fields of option spool. */
    private readonly prefix = "",
  ) {}

  /** The option's name as errors give it. */
  name(key: string): string {
    return this.prefix + key;
  }

  has(key: string): boolean {
    return Reflect.get(this.given, key) !== undefined;
  }

  /** What was given, or the default (defaults are this package's constants: not checked). */
  raw(key: string): unknown {
    const value: unknown = Reflect.get(this.given, key);
    return value === undefined ? this.defaults[key] : value;
  }

  /** A whole number from `min` to `max`. */
  int(key: string, min: number, max: number): number {
    if (!this.has(key)) return this.defaults[key] as number;
    const value: unknown = Reflect.get(this.given, key);
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new OptionError(
        this.name(key),
        `must be a whole number, got ${typeof value === "number" ? value : typeof value}`,
      );
    }
    return inRange(this.name(key), value, min, max);
  }

  /** A finite number from `min` to `max`. */
  num(key: string, min: number, max: number): number {
    if (!this.has(key)) return this.defaults[key] as number;
    const value: unknown = Reflect.get(this.given, key);
    if (typeof value !== "number" || !Number.isFinite(value)) throw new OptionError(this.name(key), "must be a number");
    return inRange(this.name(key), value, min, max);
  }

  bool(key: string): boolean {
    const value = this.raw(key);
    if (typeof value !== "boolean") throw new OptionError(this.name(key), "must be true or false");
    return value;
  }

  text(key: string): string {
    const value = this.raw(key);
    if (typeof value !== "string" || value.length === 0)
      throw new OptionError(this.name(key), "must be a non-empty string");
    return value;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fn<T extends (...args: any[]) => any>(key: string): T {
    const value = this.raw(key);
    if (typeof value !== "function") throw new OptionError(this.name(key), "must be a function");
    return value as T;
  }

  /** One of a few words. */
  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const value = this.raw(key);
    if (!values.includes(value as T))
      throw new OptionError(this.name(key), `must be ${values.map((v) => JSON.stringify(v)).join(" or ")}`);
    return value as T;
  }

  /** A secret given inline or as `{ $env: "NAME" }`. */
  secret(key: string): string {
    return resolveSecret(this.name(key), this.raw(key));
  }

  /** A URL whose scheme is one of `protocols` (e.g. ["http:", "https:"]). */
  url(key: string, protocols: readonly string[]): URL {
    return parseUrl(this.name(key), this.raw(key), protocols);
  }

  /** Throws for the first key that is not one of `known`, suggesting the one it was likely meant to be. */
  onlyKnown(known: ReadonlySet<string>, what: string): void {
    rejectUnknown(this.given, known, what, this.prefix);
  }
}

export function inRange(option: string, value: number, min: number, max: number): number {
  if (value < min || value > max) throw new OptionError(option, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseUrl(option: string, value: unknown, protocols: readonly string[]): URL {
  if (typeof value !== "string") throw new OptionError(option, "must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError(option, "is not a valid URL");
  }
  if (!protocols.includes(url.protocol))
    throw new OptionError(option, `must be a ${protocols.map((p) => p.replace(/:$/, "")).join(" or ")} URL`);
  return url;
}

/** Unknown keys are typos worth reporting: `maxrate` gets "did you mean maxRate?". */
export function rejectUnknown(given: object, known: ReadonlySet<string>, what: string, prefix = ""): void {
  for (const key of Object.keys(given)) {
    if (known.has(key)) continue;
    const near = [...known].find((k) => k.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ""));
    throw new OptionError(prefix + key, `is not ${what}${near ? ` (did you mean ${near}?)` : ""}`);
  }
}

/** An options object: a plain object, not null, not an array. */
export function isBag(value: unknown): value is Bag {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
