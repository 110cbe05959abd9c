import { createHmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { OptionError } from "../core/errors.js";
import { resolveSecret } from "../core/secret.js";

/** Headers that carry credentials: never recorded, even when named in captureHeaders. */
export const NEVER_CAPTURED_HEADERS: readonly string[] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/** The longest path or route a request event records, in characters. */
export const MAX_PATH_LENGTH = 1024;
/** The longest captured header value a request event records, in characters. */
export const MAX_HEADER_VALUE_LENGTH = 512;
/** Appended to a value that was cut, so nobody mistakes it for the whole value. */
export const TRUNCATED_MARKER = "…[truncated]";
/** Hex characters of the client IP's keyed hash that are kept (64 bits). */
export const CLIENT_IP_HASH_LENGTH = 16;

/** `text` cut to `max` characters (plus the marker), never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return text.slice(0, end) + TRUNCATED_MARKER;
}

// C0 controls (except tab) and DEL: Node's parser refuses most of them, a lenient one may not;
// they have no business in an event and can forge lines in a log that shows it.
const CONTROL_CHARACTERS = /[\x00-\x08\x0a-\x1f\x7f]/g; // eslint-disable-line no-control-regex

/** The named request headers, cleaned and cut; credential headers are refused at start-up. */
export function capturedHeaders(req: IncomingMessage, names: readonly string[]): Record<string, string> | undefined {
  const entries: [string, string][] = [];
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : String(value);
    entries.push([name, truncate(text.replace(CONTROL_CHARACTERS, "\uFFFD"), MAX_HEADER_VALUE_LENGTH)]);
  }
  // fromEntries defines own properties: a header named __proto__ cannot reach a prototype.
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/**
 * The client's IP as an HMAC-SHA256 keyed with `key`, truncated: the same client gives the same
 * value (to count distinct clients), but without the key nobody can test which IP it was.
 */
export function clientIpHash(ip: string, key: string): string {
  return createHmac("sha256", key).update(ip).digest("hex").slice(0, CLIENT_IP_HASH_LENGTH);
}

/** The client IP as the framework sees it (Express req.ip, Koa ctx.ip honour their proxy settings). */
export function clientIpOf(request: { ip?: unknown }, req: IncomingMessage): string | undefined {
  if (typeof request.ip === "string" && request.ip !== "") return request.ip;
  return req.socket?.remoteAddress;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,256}$/;

/** Option captureHeaders: header names, lower-cased; credential headers are refused. */
export function parseCaptureHeaders(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OptionError("captureHeaders", "must be a list of header names");
  const names = value.map((name: unknown) => {
    if (typeof name !== "string" || !HEADER_NAME.test(name.toLowerCase())) {
      throw new OptionError("captureHeaders", "must be a list of header names such as user-agent");
    }
    const lower = name.toLowerCase();
    if (NEVER_CAPTURED_HEADERS.includes(lower)) {
      throw new OptionError("captureHeaders", `${lower} carries credentials and is never recorded (never: ${NEVER_CAPTURED_HEADERS.join(", ")})`);
    }
    return lower;
  });
  return [...new Set(names)];
}

/** A short key can be guessed from one known IP and its hash; then every hash is a lookup away (IPv4 has 2^32 values). */
const MIN_CLIENT_IP_KEY_LENGTH = 16;

/** Option clientIpKey: a secret (or `{ $env }`) of at least 16 characters. */
export function parseClientIpKey(value: unknown): string {
  const key = resolveSecret("clientIpKey", value);
  if (key.length < MIN_CLIENT_IP_KEY_LENGTH) throw new OptionError("clientIpKey", `must be at least ${MIN_CLIENT_IP_KEY_LENGTH} characters`);
  return key;
}
