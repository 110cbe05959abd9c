// The Datasette row format as datasette-events-forward writes it, spelled out here (not imported
// from src/) so that a change to the format fails the tests.
import { expect } from "vitest";

/** The eight columns datasette-events-forward writes, in its order. */
export const EIGHT_COLUMNS = [
  "id",
  "instance",
  "event",
  "created",
  "actor_id",
  "database_name",
  "table_name",
  "properties",
];

export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** `created` as datasette-events-forward writes it: Python's isoformat() of a UTC datetime (no fraction when it is zero). */
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}000)?\+00:00$/;

/** The eight columns as SQLite describes a table made for them: all TEXT, `id` the primary key. */
export const EIGHT_TEXT_COLUMNS = EIGHT_COLUMNS.map((name) => ({ name, type: "TEXT", pk: name === "id" ? 1 : 0 }));

/** What `put()` of {@link SIGNUP} becomes in the table, for a forwarder with this `instance`. */
export function signupRow(instance: string): Record<string, unknown> {
  return {
    id: expect.stringMatching(ULID),
    instance,
    event: "signup",
    created: expect.stringMatching(ISO_UTC),
    actor_id: "u1",
    database_name: "db",
    table_name: "t",
    properties: JSON.stringify({ plan: "pro" }),
  };
}

/** An event with every column of the row filled. */
export const SIGNUP = {
  event: "signup",
  actorId: "u1",
  databaseName: "db",
  tableName: "t",
  properties: { plan: "pro" },
};
