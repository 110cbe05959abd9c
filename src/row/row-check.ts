import { ROW_COLUMNS } from "./event-input.js";

/**
 * Checks an event's text before it joins a batch body: undefined when it may, else why not. Text
 * read back from a spool was written by whoever can write there (a process without the token, any
 * client of the Redis server); pasted as it is, a row could close the body's `rows` array and add
 * keys of its own (`"table": "users", "replace": true`) to a request the publisher signs.
 */
export type RowCheck = (json: string) => string | undefined;

/** What every refusal starts with: dead-letters list groups them by it (see reasonKind). */
export const MALFORMED_EVENT = "refused before sending: the event's text is";

/** One JSON object: joined with commas inside the body's array, it cannot change anything around it. */
export const jsonObjectCheck: RowCheck = (json) => {
  const parsed = parsedObject(json);
  return typeof parsed === "string" ? parsed : undefined;
};

const COLUMNS = new Set<string>(ROW_COLUMNS);
const REQUIRED_TEXT = ["id", "instance", "event", "created", "properties"] as const;
const TEXT_OR_NULL = ["actor_id", "database_name", "table_name"] as const;

/** A Datasette row as the default serializer writes it: its eight columns and no other, each of its type. */
export const datasetteRowCheck: RowCheck = (json) => {
  const row = parsedObject(json);
  if (typeof row === "string") return row;
  for (const key of Object.keys(row)) {
    if (!COLUMNS.has(key)) return `${MALFORMED_EVENT} not a row of the table: unknown column ${quoted(key)}`;
  }
  for (const column of REQUIRED_TEXT) {
    if (typeof row[column] !== "string") return `${MALFORMED_EVENT} not a row of the table: ${column} is not text`;
  }
  for (const column of TEXT_OR_NULL) {
    const value = row[column];
    if (value !== undefined && value !== null && typeof value !== "string")
      return `${MALFORMED_EVENT} not a row of the table: ${column} is not text or null`;
  }
  return undefined;
};

function parsedObject(json: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return `${MALFORMED_EVENT} not JSON`;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    return `${MALFORMED_EVENT} not a JSON object`;
  return parsed as Record<string, unknown>;
}

/** A name from the text, short and with its control characters escaped (JSON escapes C0, not C1). */
function quoted(name: string): string {
  return JSON.stringify(name.slice(0, 64)).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
