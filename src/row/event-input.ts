import { EventError } from "../core/errors.js";

/** What an app hands to put(): the Datasette row, in camelCase, before enrichment. */
export interface EventInput {
  event: string;
  actorId?: string | number | null;
  databaseName?: string | null;
  tableName?: string | null;
  properties?: Record<string, unknown>;
  created?: Date | string | number;
}

/** What the request context adds to every event put through it. */
export interface EventMeta {
  requestId?: string;
  /** True when requestId is known to be printable ASCII without `"` or `\` (the request context's always is). */
  requestIdIsPlain?: boolean;
  actorId?: unknown;
}

/**
 * Turns what the app put into the exact text that travels in a batch. `In` is what it takes:
 * with a serializer of your own, `put()` is typed by its first parameter.
 */
export type Serializer<In = unknown> = (event: In, meta: EventMeta) => string;

/** The eight columns datasette-events-forward writes, in its order. */
export const ROW_COLUMNS = [
  "id",
  "instance",
  "event",
  "created",
  "actor_id",
  "database_name",
  "table_name",
  "properties",
] as const;

/**
 * The properties as JSON text, with the request id added last (as `{ ...properties, request_id }`
 * would put it) unless the event has its own; splices the text instead of copying the object.
 * Compact JSON, where the plugin writes json.dumps's spaced, ASCII-only form: see
 * docs/compatibility.md for why.
 */
export function propertiesJson(
  properties: Record<string, unknown> | undefined,
  requestId: string | undefined,
): string | undefined {
  if (properties === undefined) return requestId === undefined ? "{}" : `{"request_id":${JSON.stringify(requestId)}}`;
  if (requestId === undefined || "request_id" in properties) return JSON.stringify(properties);
  const proto = Object.getPrototypeOf(properties) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof properties.toJSON === "function") {
    return JSON.stringify({ ...properties, request_id: requestId });
  }
  const json = JSON.stringify(properties);
  const id = JSON.stringify(requestId);
  return json === "{}" ? `{"request_id":${id}}` : `${json.slice(0, -1)},"request_id":${id}}`;
}

export function checkInput(input: unknown): EventInput {
  if (input === null || typeof input !== "object") {
    throw new EventError(`put() takes an object like { event: "signup" }, got ${describe(input)}`);
  }
  const event = input as EventInput;
  if (typeof event.event !== "string" || event.event.length === 0) {
    throw new EventError(`put() needs a non-empty string "event" name, got ${describe(event.event)}`);
  }
  // Named reads: a keyed one (event[key]) cost a put() more than both checks together.
  checkName(event, "databaseName", event.databaseName);
  checkName(event, "tableName", event.tableName);
  if (
    event.properties !== undefined &&
    (event.properties === null || typeof event.properties !== "object" || Array.isArray(event.properties))
  ) {
    throw new EventError(
      `event ${describe(event.event)}: properties must be a plain object, got ${describe(event.properties)}`,
    );
  }
  if (enumerableKeys(event) !== fieldsSet(event)) checkFields(event);
  return event;
}

/**
 * A field put() does not know would vanish from the row (a misspelt `propertes`, a snake_case
 * `actor_id`). Counting is put()'s cheap test: as many enumerable keys as fields set means no
 * other key (measured: 25 to 50 ns a put(), where a lookup of each key cost 130 ns). Otherwise each key
 * is looked at: a field set to undefined, or a key the prototype has (a polluted one), is fine.
 */
function enumerableKeys(event: EventInput): number {
  let keys = 0;
  for (const _ in event) keys++;
  return keys;
}

function fieldsSet(event: EventInput): number {
  return (
    1 +
    (event.actorId !== undefined ? 1 : 0) +
    (event.databaseName !== undefined ? 1 : 0) +
    (event.tableName !== undefined ? 1 : 0) +
    (event.properties !== undefined ? 1 : 0) +
    (event.created !== undefined ? 1 : 0)
  );
}

function checkFields(event: EventInput): void {
  for (const key in event) {
    if (!INPUT_FIELDS.has(key) && Object.hasOwn(event, key)) throw unknownField(event.event, key);
  }
}

/** The fields of EventInput: everything else about an event goes inside `properties`. */
const INPUT_FIELDS: ReadonlySet<string> = new Set([
  "event",
  "actorId",
  "databaseName",
  "tableName",
  "properties",
  "created",
]);
const SNAKE_CASE: ReadonlyMap<string, string> = new Map([
  ["actor_id", "actorId"],
  ["database_name", "databaseName"],
  ["table_name", "tableName"],
]);

function unknownField(name: string, key: string): EventError {
  const camel = SNAKE_CASE.get(key);
  const hint = camel === undefined ? "" : ` (did you mean ${camel}?)`;
  return new EventError(
    `event ${describe(name)}: unknown field ${describe(key)}${hint}; put() takes event, actorId, databaseName, tableName, properties and created, and anything else goes inside properties`,
  );
}

function checkName(event: EventInput, key: "databaseName" | "tableName", value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "string") {
    throw new EventError(`event ${describe(event.event)}: ${key} must be a string or null, got ${describe(value)}`);
  }
}

/**
 * A lone UTF-16 surrogate cannot be encoded as UTF-8: Datasette rejects the whole batch with a 400
 * ("surrogates not allowed"). In the text columns it becomes U+FFFD; inside `properties` (JSON
 * text) JSON.stringify already escapes it as \udXXX, which stores fine.
 */
export function wellFormed(text: string): string {
  const checked = text as unknown as WellFormed;
  return checked.isWellFormed() ? text : checked.toWellFormed();
}

/** ES2024 string methods (Node 20 has them; the ES2022 lib does not declare them). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

export function toIsoDate(created: EventInput["created"]): string {
  if (created === undefined) return pythonIsoformat(Date.now());
  const date =
    created instanceof Date
      ? created
      : typeof created === "string" || typeof created === "number"
        ? new Date(created)
        : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new EventError(
      `created must be a Date, an ISO 8601 string or milliseconds since the epoch, got ${describe(created)}`,
    );
  }
  return pythonIsoformat(date.getTime());
}

/**
 * `created` as datasette-events-forward writes it: Python's `datetime.isoformat()` of a UTC
 * datetime, `2026-12-01T12:11:22.058000+00:00` (microseconds, from our milliseconds), and
 * `2026-12-01T12:11:22+00:00` when the fraction is zero, as Python leaves it out then. One form in
 * the column, so the rows of both sort by time as text.
 */
export function pythonIsoformat(ms: number): string {
  const iso = new Date(ms).toISOString(); // ...T12:11:22.058Z
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}+00:00` : `${iso.slice(0, -1)}000+00:00`;
}

/** The length of pythonIsoformat(ms) for a date of years 0 to 9999: 25 without a fraction, 32 with one. */
export function pythonIsoformatLength(ms: number): number {
  return ms % 1000 === 0 ? 25 : 32;
}

export function idText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new EventError(`actorId must be a string or a number, got ${describe(value)}`);
}

/** A short description of a bad value for an error message (never the value's whole text). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "object") return "an object";
  if (typeof value === "symbol") return "a symbol";
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a number, bigint, boolean, function or undefined here
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
