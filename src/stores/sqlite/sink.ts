import { ROW_COLUMNS } from "../../row/event-input.js";
import type { SendResult } from "../../pipeline/sink.js";
import { explainSqliteError, openSqlite, quoteIdentifier } from "../../core/sqlite-open.js";
import { transaction } from "../../core/sqlite-driver.js";
import type { Sink } from "../../pipeline/sink.js";
import { dashboardIndexesSql } from "../../dashboard/indexes.js";
import type { Logger } from "../../core/log.js";

export interface SqliteSinkOptions {
  /** The SQLite file (option `database`). */
  path: string;
  table: string;
  /** Option allowSymlinks. */
  allowSymlink?: boolean;
  /** Hears that the dashboard's indexes could not be made. */
  logger?: Logger;
}

type Row = Record<(typeof ROW_COLUMNS)[number], string | number | null>;

/**
 * The embedded store: rows go into a local SQLite file, in the table and with the eight columns
 * Datasette would hold, so `datasette events.db` browses them. One transaction per batch;
 * `INSERT OR IGNORE` on the ULID primary key makes a batch written twice harmless, as
 * `"ignore": true` does for Datasette. Opens the file at once, so a bad path fails at start-up.
 */
export function sqliteSink(options: SqliteSinkOptions): Sink {
  const table = quoteIdentifier(options.table);
  const columns = ROW_COLUMNS.map((c) => `${c} TEXT${c === "id" ? " PRIMARY KEY" : ""}`).join(", ");
  const db = openSqlite("database", options.path, {
    allowSymlink: options.allowSymlink,
    init: (db) => db.exec(`CREATE TABLE IF NOT EXISTS ${table} (${columns})`),
  });
  // The dashboard's indexes (docs/dashboard.md): its request queries read them instead of parsing
  // JSON. Not needed to take events: a file that cannot have them (a lock held past the timeout, a
  // request row an app's own serializer wrote with properties that are not JSON) is used without.
  try {
    db.exec(dashboardIndexesSql(options.table));
  } catch (error) {
    options.logger?.warn(
      `SQLite ${options.path}: the dashboard's indexes could not be made (${explainSqliteError(error)}); its queries read the table without them, slower`,
    );
  }
  const insert = db.prepare(
    `INSERT OR IGNORE INTO ${table} (${ROW_COLUMNS.join(", ")}) VALUES (${ROW_COLUMNS.map((c) => `@${c}`).join(", ")})`,
  );
  const insertAll = (rows: Row[]) =>
    transaction(db, () => {
      for (const row of rows) insert.run(row);
    });
  return {
    description: `SQLite ${options.path}`,
    async send(events): Promise<SendResult> {
      const rows: Row[] = [];
      const bad: string[] = [];
      events.forEach((event, i) => {
        const row = toRow(event.json);
        if (typeof row === "string") bad.push(`row ${i}: ${row}`);
        else rows.push(row);
      });
      // Like Datasette's 400 naming each bad row: the forwarder splits the batch to isolate them
      // (naming each keeps a batch's answer apart from its halves', see batch-delivery.ts).
      if (bad.length > 0)
        return {
          ok: false,
          retry: false,
          splittable: true,
          reason: `bad rows for ${options.table}: ${bad.slice(0, 10).join("; ")}${bad.length > 10 ? `; and ${bad.length - 10} more` : ""}`,
        };
      try {
        insertAll(rows);
        return { ok: true };
      } catch (error) {
        // Busy (another writer), disk full, I/O trouble: all may pass, so try again later.
        return { ok: false, retry: true, reason: `writing to ${options.path} failed: ${explainSqliteError(error)}` };
      }
    },
    async close() {
      db.close();
    },
  };
}

const COLUMN_SET = new Set<string>(ROW_COLUMNS);

/** The row a payload holds, or what is wrong with it. */
function toRow(payload: string): Row | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return "not JSON";
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "not a JSON object";
  const source = parsed as Record<string, unknown>;
  const unknown = Object.keys(source).find((key) => !COLUMN_SET.has(key));
  if (unknown !== undefined) return `unknown column ${JSON.stringify(unknown.slice(0, 64))}`;
  if (typeof source.id !== "string" || source.id === "") return "no id";
  const row = {} as Row;
  for (const column of ROW_COLUMNS) row[column] = cell(source[column]);
  // The dashboard's indexes read a request's properties as JSON: SQLite would refuse the insert.
  if (row.event === "request" && typeof row.properties === "string" && !isJson(row.properties))
    return "properties of a request event must be JSON (the dashboard's indexes read them)";
  return row;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** SQLite binds strings and numbers; store everything else as Datasette would (JSON text, 0/1). */
function cell(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return JSON.stringify(value);
}
