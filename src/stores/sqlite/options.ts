import { OptionError } from "../../core/errors.js";
import type { OptionReader } from "../../core/checks.js";
import type { OptionDeclaration } from "../../core/option-spec.js";

/** The option of the embedded store. */
export interface SqliteStoreOptions {
  /** The embedded store, used when no apiUrl or collector is given: a SQLite file (node:sqlite on Node 22.13+, else better-sqlite3). Default: `"./events.db"`. */
  database?: string;
}

/** What the embedded store adds to the resolved options. */
export interface SqlitePart {
  readonly database: string;
}

export const SQLITE_STORE_OPTIONS = {
  database: {
    doc: {
      group: "store",
      default: "`./events.db`",
      range: "a file path",
      meaning: "the [embedded store](#the-embedded-store), used when neither `apiUrl` nor `collector` is given",
    },
    default: "./events.db",
    ini: "as written",
  },
} satisfies { [K in keyof SqliteStoreOptions]-?: OptionDeclaration };

export function resolveSqliteStore(read: OptionReader): SqlitePart {
  return { database: read.text("database") };
}

/** Another store is the one: naming the embedded store's file is a mistake (unless this process only writes to a spool). */
export function noDatabase(read: OptionReader): void {
  if (read.has("database") && read.raw("publisher") !== false)
    throw new OptionError(
      "database",
      "names the embedded store, which is only used when no other store (apiUrl, collector) is configured",
    );
}
