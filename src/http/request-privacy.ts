import { builtin } from "../core/builtin.js";
import type { IncomingMessage } from "node:http";

/**
 * Headers that carry credentials: never recorded, even when named in captureHeaders (refused at
 * start-up). The names, and any name that contains one of NEVER_CAPTURED_PARTS. docs/delivery.md
 * lists both: keep them in step.
 */
export const NEVER_CAPTURED_HEADERS: readonly string[] = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-auth-token",
  "x-csrf-token",
  "x-xsrf-token",
  "x-amz-security-token",
  "x-access-token",
  "x-refresh-token",
  "x-id-token",
];
/** Parts of a header name that say it carries a credential (x-goog-api-key, x-hub-signature-256, x-session-id...). */
export const NEVER_CAPTURED_PARTS: readonly string[] = [
  "auth",
  "cookie",
  "token",
  "secret",
  "password",
  "passwd",
  "api-key",
  "apikey",
  "session",
  "signature",
  "credential",
  "csrf",
  "xsrf",
];

/** Does this (lower-case) header name carry a credential? */
export function carriesCredential(name: string): boolean {
  return NEVER_CAPTURED_HEADERS.includes(name) || NEVER_CAPTURED_PARTS.some((part) => name.includes(part));
}

/** Headers that hold the client's IP: recorded only through clientIpKey's HMAC, each address apart. */
export const CLIENT_IP_HEADERS: readonly string[] = [
  "x-forwarded-for",
  "x-real-ip",
  "forwarded",
  "cf-connecting-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
];

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

// C0 controls (except tab), DEL and C1 controls (a header's bytes are read as Latin-1, so a byte
// 0x9b is U+009B, a terminal's CSI): Node's parser refuses most C0 ones, a lenient one may not;
// they have no business in an event and can forge lines in a log, or drive a terminal, that shows it.
const CONTROL_CHARACTERS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g; // eslint-disable-line no-control-regex

/**
 * The named request headers, cleaned and cut; credential headers are refused at start-up, and the
 * client IP headers are recorded as clientIpKey's HMAC of each comma-separated element.
 */
export function capturedHeaders(
  req: IncomingMessage,
  names: readonly string[],
  clientIpKey?: string,
): Record<string, string> | undefined {
  const entries: [string, string][] = [];
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) continue;
    let text = Array.isArray(value) ? value.join(", ") : String(value);
    if (CLIENT_IP_HEADERS.includes(name)) text = hashedAddresses(text, clientIpKey!);
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
  return builtin("node:crypto").createHmac("sha256", key).update(ip).digest("hex").slice(0, CLIENT_IP_HASH_LENGTH);
}

/** `a, b` → `hmac(a), hmac(b)`: the same client gives the hash client_ip_hash gives it. */
function hashedAddresses(text: string, key: string): string {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => clientIpHash(part, key))
    .join(", ");
}

/** The client IP as the framework sees it (Express req.ip, Koa ctx.ip honour their proxy settings). */
export function clientIpOf(request: { ip?: unknown }, req: IncomingMessage): string | undefined {
  if (typeof request.ip === "string" && request.ip !== "") return request.ip;
  return req.socket?.remoteAddress;
}
