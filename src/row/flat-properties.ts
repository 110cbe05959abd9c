/**
 * The fast path of put(): most events carry a flat object of short ASCII strings, numbers,
 * booleans and nulls. For those, put() copies the values (a snapshot: later changes by the app do
 * not leak into the event) and counts the exact bytes the `properties` column will take, without
 * serializing; the batch writes the column's bytes from the copy (writeFlatPropertiesColumn), or
 * its text if something reads the row's `json`. Anything else is serialized at once.
 */
import { numberText, numberTextLength, writeNumberText } from "./number-text.js";
import { writeAscii } from "./bytes.js";

/** Where flatProperties() leaves what it found: the queued row itself (no object of its own). */
export interface FlatProperties {
  copy: Record<string, unknown> | undefined;
  /** Added when the text is made: adding a key to a spread copy costs more than the copy. */
  requestId: string | undefined;
  /** The row's bytes so far: the column's bytes (request_id included, as a JSON string) are added. */
  bytes: number;
  /** Some name was not in the cache: rememberKeys(copy) once the event is accepted (see there). */
  newKeys: boolean;
}

// Every character of a "plain" string is printable ASCII that JSON does not escape, so the
// column text is the string between escaped quotes: \"text\", its length plus 4 bytes.
const QUOTED_EXTRA = 4;

/**
 * Fills `into` with the copy and its exact size and returns true; false, leaving `into` alone,
 * when the properties are not flat and plain: an object (not a plain one), an array or nested
 * value, a string that JSON would escape, a key that would need escaping or that JSON.parse treats
 * specially (`__proto__`), or a toJSON().
 */
export function flatProperties(
  into: FlatProperties,
  properties: Record<string, unknown> | undefined,
  requestId: string | undefined,
  requestIdIsPlain = false,
): boolean {
  if (inheritsEnumerableKeys()) return false;
  if (properties !== undefined) {
    const proto = Object.getPrototypeOf(properties) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
  }
  // A spread copies an object of a common shape in one step; it reads getters once, as JSON would.
  const copy: Record<string, unknown> = properties === undefined ? {} : { ...properties };
  // JSON.stringify would call a toJSON() even from Object.prototype (where no app should put one).
  if (copy.toJSON !== undefined) return false;
  // `{}` in the column: "{}" as a JSON string is 4 bytes.
  let bytes = 4;
  let count = 0;
  for (const key in copy) {
    const value = copy[key];
    let valueBytes: number;
    switch (typeof value) {
      case "string":
        if (!isPlain(value)) return false;
        valueBytes = value.length + QUOTED_EXTRA;
        break;
      case "number":
        valueBytes = numberTextLength(value);
        break;
      case "boolean":
        valueBytes = value ? 4 : 5;
        break;
      case "undefined":
        continue; // JSON.stringify leaves the key out
      case "object":
        if (value !== null) return false;
        valueBytes = 4;
        break;
      default:
        return false; // functions, symbols, bigints: the full serializer decides
    }
    // Events of one shape list the same names in the same order: a name seen at this position
    // last time (the same string, compared by identity first) was found plain then. Only names
    // of accepted events are remembered: a refused event leaves no trace (see rememberKeys).
    if (key !== recentKeys[count]) {
      if (plainKeys.has(key)) {
        if (count < MAX_RECENT_KEYS) recentKeys[count] = key;
      } else if (plainKey(key)) into.newKeys = true;
      else return false;
    }
    // \"key\": then the value, and a comma before every pair but the first.
    bytes += key.length + QUOTED_EXTRA + 1 + valueBytes + (count > 0 ? 1 : 0);
    count++;
  }
  // `in`, as the full serializer checks it: an event's own request_id (even undefined) wins.
  let added: string | undefined;
  if (requestId !== undefined && !(properties !== undefined && "request_id" in properties)) {
    // A new request's id costs a comparison and a scan here unless its maker vouches for it.
    if (!requestIdIsPlain && requestId !== lastPlainRequestId) {
      if (!isPlain(requestId)) return false;
      lastPlainRequestId = requestId; // the events of one request share it
    }
    bytes += "request_id".length + QUOTED_EXTRA + 1 + requestId.length + QUOTED_EXTRA + (count > 0 ? 1 : 0);
    added = requestId;
  }
  into.copy = copy;
  into.requestId = added;
  into.bytes += bytes;
  return true;
}

let lastPlainRequestId = "";

/** The plain names of the last events, by position (see flatProperties), for their first names. */
const recentKeys: string[] = [];
const MAX_RECENT_KEYS = 64;

/**
 * Property names repeat from one event to the next: the ones found plain are remembered with
 * their column text, `\"name\":`, which costs less than checking them every time and makes the
 * column of fewer, longer pieces. Names come from request data too (`properties: req.query`), so
 * the cache is bounded by bytes, keeps only short names, and takes names only from events the
 * queue accepted: the row calls rememberKeys() when its batch is written, never put().
 */
const plainKeys = new Map<string, string>();
/** The most characters of names and their column text the cache holds (Latin-1: a byte each). */
export const PLAIN_KEYS_BUDGET = 1024 * 1024;
/** Longer names are checked each time: their check costs little beside their length. */
export const MAX_CACHED_NAME_LENGTH = 128;
/** What a cache entry costs beyond its characters: the map's slot and two string headers. */
export const CACHE_ENTRY_OVERHEAD = 64;
let plainKeysBytes = 0;

/** Plain, and not a name JSON.parse treats specially; checks only (the cache fills on acceptance). */
function plainKey(key: string): boolean {
  return key !== "__proto__" && key !== "toJSON" && isPlain(key);
}

/** The names of an accepted event's flat copy (all found plain by put()) join the cache, within its bytes. */
export function rememberKeys(copy: Record<string, unknown>): void {
  for (const key of Object.keys(copy)) {
    if (key.length > MAX_CACHED_NAME_LENGTH || plainKeys.has(key)) continue;
    const text = keyText(key);
    const cost = key.length + text.length + CACHE_ENTRY_OVERHEAD;
    if (plainKeysBytes + cost > PLAIN_KEYS_BUDGET) return;
    plainKeys.set(key, text);
    plainKeysBytes += cost;
  }
}

function keyText(key: string): string {
  return ['\\"', key, '\\":'].join(""); // join makes a flat string
}

/** for...in would also walk keys an app (or an attacker) made enumerable on Object.prototype. */
function inheritsEnumerableKeys(): boolean {
  for (const _ in {}) return true;
  return false;
}

/** Printable ASCII without `"` and `\`: JSON writes it as it is, in one byte a character. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * The column text in one pass: the properties' JSON text written as a JSON string. Everything in
 * it is plain, so the only escapes are the quotes: `"{\"plan\":\"pro\",\"n\":3}"`.
 */
export function flatPropertiesColumn(copy: Record<string, unknown>, requestId: string | undefined): string {
  let text = '"{';
  let separator = "";
  // Object.keys, not for...in: Object.prototype may have changed since put() checked it.
  for (const key of Object.keys(copy)) {
    const value = copy[key];
    if (value === undefined) continue;
    const valueText =
      typeof value === "string"
        ? `\\"${value}\\"`
        : typeof value === "number"
          ? numberText(value)
          : // eslint-disable-next-line @typescript-eslint/no-base-to-string -- flat: true, false or null
            String(value);
    text += separator + (plainKeys.get(key) ?? keyText(key)) + valueText;
    separator = ",";
  }
  if (requestId !== undefined) text += `${separator}\\"request_id\\":\\"${requestId}\\"`;
  return `${text}}"`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * flatPropertiesColumn(copy, requestId) as bytes, written at `at` (the batch body's usual path:
 * no text is made); returns where it ends. Everything in the copy was found plain by put().
 * The two stay separate: making `json` from these bytes (a Buffer and its decoding) cost a spool,
 * which reads every row's text, three times what the text path does (2,341 against 789 ns).
 */
export function writeFlatPropertiesColumn(
  into: Uint8Array,
  at: number,
  copy: Record<string, unknown>,
  requestId: string | undefined,
): number {
  into[at++] = QUOTE;
  into[at++] = 0x7b; // {
  let first = true;
  for (const key of Object.keys(copy)) {
    const value = copy[key];
    if (value === undefined) continue;
    if (!first) into[at++] = 0x2c; // ,
    first = false;
    at = writeQuotedAscii(into, at, key);
    into[at++] = 0x3a; // :
    if (typeof value === "string") at = writeQuotedAscii(into, at, value);
    else if (typeof value === "number") at = writeNumberText(into, at, value);
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- flat: true, false or null
    else at = writeAscii(into, at, String(value));
  }
  if (requestId !== undefined) {
    if (!first) into[at++] = 0x2c;
    at = writeQuotedAscii(into, at, "request_id");
    into[at++] = 0x3a;
    at = writeQuotedAscii(into, at, requestId);
  }
  into[at++] = 0x7d; // }
  into[at++] = QUOTE;
  return at;
}

/** \"text\": the quotes escaped, as inside the column's JSON string. */
function writeQuotedAscii(into: Uint8Array, at: number, text: string): number {
  into[at++] = BACKSLASH;
  into[at++] = QUOTE;
  at = writeAscii(into, at, text);
  into[at++] = BACKSLASH;
  into[at++] = QUOTE;
  return at;
}
