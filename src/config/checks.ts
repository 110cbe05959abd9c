import { DEFAULTS } from "./defaults.js";
import { OptionError } from "../core/errors.js";
import type { Logger } from "../core/log.js";

// The checks resolveOptions() applies to one value each; every failure names the option.

export type Bag = Record<string, unknown>;

export function int<K extends string>(o: object, key: K, min: number, max: number, defaults: Bag = DEFAULTS): number {
  const value = (o as Bag)[key];
  if (value === undefined) return defaults[key] as number;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new OptionError(key, `must be a whole number, got ${typeof value === "number" ? value : typeof value}`);
  if (value < min || value > max) throw new OptionError(key, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function num(o: object, key: string, min: number, max: number, defaults: Bag = DEFAULTS): number {
  const value = (o as Bag)[key];
  if (value === undefined) return defaults[key] as number;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new OptionError(key, "must be a number");
  if (value < min || value > max) throw new OptionError(key, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function text(o: object, key: string): string {
  const value = (o as Bag)[key];
  if (typeof value !== "string" || value.length === 0) throw new OptionError(key, "must be a non-empty string");
  return value;
}

export function identifier(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z_$][\w$]*$/.test(value)) throw new OptionError("name", "must be a JavaScript identifier such as events or events_v2");
  // req.__proto__ = context would swap the request's prototype; constructor, toString... break it too.
  if (value in Object.prototype) throw new OptionError("name", `${value} would replace a property every object has; choose a name such as events_v2`);
  return value;
}

export function bool(o: object, key: string): boolean {
  const value = (o as Bag)[key];
  if (typeof value !== "boolean") throw new OptionError(key, "must be true or false");
  return value;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fn<T extends (...args: any[]) => any>(o: object, key: string): T {
  const value = (o as Bag)[key];
  if (typeof value !== "function") throw new OptionError(key, "must be a function");
  return value as T;
}

export function logger(value: unknown): Logger {
  const l = value as Logger;
  if (l === null || typeof l !== "object" || typeof l.warn !== "function" || typeof l.error !== "function") {
    throw new OptionError("logger", "must be false or an object with warn() and error() methods");
  }
  return l;
}
