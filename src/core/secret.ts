import { OptionError } from "./errors.js";

/** A secret given inline or read from an environment variable: `{ $env: "FORWARD_TOKEN" }`. */
export type Secret = string | { $env: string };

/** The secret's value; errors name the option and the variable, never the value. */
export function resolveSecret(option: string, value: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof value === "string") {
    if (value.length === 0) throw new OptionError(option, "is an empty string");
    return unpadded(option, value, "");
  }
  if (value !== null && typeof value === "object" && typeof (value as { $env?: unknown }).$env === "string") {
    const name = (value as { $env: string }).$env;
    const found = env[name];
    if (found === undefined || found === "") throw new OptionError(option, `environment variable ${name} is not set`);
    return unpadded(option, found, ` (from environment variable ${name})`);
  }
  throw new OptionError(option, 'must be a string or { "$env": "VARIABLE_NAME" }');
}

/**
 * A secret read from a file often ends in a newline: sent as it is, it fails every request (or
 * the HTTP client refuses the header), long after start-up. Refused now, never trimmed silently.
 */
function unpadded(option: string, secret: string, from: string): string {
  if (secret.trim() === secret) return secret;
  throw new OptionError(
    option,
    `starts or ends with whitespace${from} (a newline from a secret file, say): remove it; the value is not repeated here`,
  );
}

/**
 * Removes secrets from text that came from elsewhere (a store's error page may echo the request's
 * headers), before it reaches a log, an error or onDrop: each secret as it is, URL-encoded (in
 * either case of hex digit) and JSON-escaped. Run it on the whole text before anything cuts it,
 * or a cut can keep the first characters of a secret.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    for (const form of secretForms(secret)) {
      if (out.includes(form)) out = out.split(form).join("[redacted]");
    }
    const encoded = encodeURIComponent(secret);
    // A percent-encoding's hex digits may come in lower case: matched whatever their case.
    if (encoded !== secret && out.toLowerCase().includes(encoded.toLowerCase()))
      out = out.replace(new RegExp(escapeRegExp(encoded), "gi"), "[redacted]");
  }
  return out;
}

/** The secret, and how a page can echo it: JSON-escaped (with or without `\/`) and URL-encoded. */
function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, json, json.replace(/\//g, "\\/"), encodeURIComponent(secret)])];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
