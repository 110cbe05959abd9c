import { builtin } from "../core/builtin.js";
import type { IncomingMessage } from "node:http";

/** Headers that carry credentials: never recorded, even when named in captureHeaders. */
export const NEVER_CAPTURED_HEADERS: readonly string[] = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
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
  return builtin("node:crypto").createHmac("sha256", key).update(ip).digest("hex").slice(0, CLIENT_IP_HASH_LENGTH);
}

/** The client IP as the framework sees it (Express req.ip, Koa ctx.ip honour their proxy settings). */
export function clientIpOf(request: { ip?: unknown }, req: IncomingMessage): string | undefined {
  if (typeof request.ip === "string" && request.ip !== "") return request.ip;
  return req.socket?.remoteAddress;
}
