import { OptionError } from "../../core/errors.js";
import { parseUrl, type OptionReader } from "../../core/checks.js";
import type { OptionDeclaration } from "../../core/option-spec.js";
import type { Secret } from "../../core/secret.js";
import { assertSecureTransport } from "../../core/transport-security.js";
import type { ResolvedGeneral } from "../../config/option-table.js";
import { datasetteMode } from "./sink.js";

/** The options that name a Datasette store. */
export interface DatasetteOptions {
  /** Datasette write API: `https://host/db/-/create` or `https://host/db/table/-/insert`. Default: none (the embedded store, unless `collector` is given). */
  apiUrl?: string;
  /** Bearer token for the write API; `{ $env: "NAME" }` reads it from the environment. Default: none. */
  apiToken?: Secret;
}

/** What the Datasette store adds to the resolved options. apiUrl is undefined only for a process that only writes to a spool (publisher false). */
export interface DatasettePart {
  readonly apiUrl: URL | undefined;
  readonly apiToken: string | undefined;
}

export const DATASETTE_OPTIONS = {
  apiUrl: {
    doc: {
      group: "store",
      default: "none: the embedded store unless `collector` is given",
      range: "an `http:` or `https:` URL ending in `/-/create` or `/<table>/-/insert`",
      meaning:
        "Datasette's write API: `https://host/db/-/create` creates the table on first use and inserts (the token needs `create-table` and `insert-row`); `https://host/db/table/-/insert` only inserts (`insert-row`)",
    },
    ini: "as written",
  },
  apiToken: {
    doc: {
      group: "store",
      default: "none",
      range: 'a string, or `{ "$env": "NAME" }`',
      meaning: 'the bearer token; `{ "$env": "NAME" }` reads it from the environment variable `NAME`',
    },
    ini: "as written",
  },
} satisfies { [K in keyof DatasetteOptions]-?: OptionDeclaration };

/** Checks the Datasette options once Datasette is the store. */
export function resolveDatasette(read: OptionReader, general: ResolvedGeneral): DatasettePart {
  const apiUrl = read.has("apiUrl") ? parseApiUrl(read.raw("apiUrl")) : undefined;
  const apiToken = checkApiToken(read);
  // A credential never crosses a network in clear text unless the app says the network is trusted.
  if (apiToken !== undefined && apiUrl !== undefined)
    assertSecureTransport("apiUrl", apiUrl, "bearer token (apiToken)", general.allowInsecureHttp);
  return { apiUrl, apiToken };
}

/** Another store is the one: a token given anyway must still be a valid secret. */
export function checkApiToken(read: OptionReader): string | undefined {
  return read.has("apiToken") ? read.secret("apiToken") : undefined;
}

function parseApiUrl(value: unknown): URL {
  const url = parseUrl("apiUrl", value, ["http:", "https:"]);
  if (datasetteMode(url) === undefined) {
    throw new OptionError(
      "apiUrl",
      "must end in /-/create (create the table and insert) or /<table>/-/insert (insert only)",
    );
  }
  return url;
}
