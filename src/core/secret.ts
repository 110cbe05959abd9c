import { OptionError } from "./errors.js";

/** A secret given inline or read from an environment variable: `{ $env: "FORWARD_TOKEN" }`. */
export type Secret = string | { $env: string };

/** The secret's value; errors name the option and the variable, never the value. */
export function resolveSecret(option: string, value: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof value === "string") {
    if (value.length === 0) throw new OptionError(option, "is an empty string");
    return value;
  }
  if (value !== null && typeof value === "object" && typeof (value as { $env?: unknown }).$env === "string") {
    const name = (value as { $env: string }).$env;
    const found = env[name];
    if (found === undefined || found === "") throw new OptionError(option, `environment variable ${name} is not set`);
    return found;
  }
  throw new OptionError(option, 'must be a string or { "$env": "VARIABLE_NAME" }');
}

/**
 * Removes secrets from text that came from elsewhere (a store's error page may echo the request's
 * headers), before it reaches a log, an error or onDrop.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join("[redacted]");
  }
  return out;
}
