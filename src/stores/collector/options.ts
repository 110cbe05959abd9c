import type { KeyObject } from "node:crypto";
import { builtin } from "../../core/builtin.js";
import { OptionError } from "../../core/errors.js";
import { parseUrl as checkUrl, rejectUnknown, type OptionReader } from "../../core/checks.js";
import type { OptionDeclaration } from "../../core/option-spec.js";
import { assertSecureTransport } from "../../core/transport-security.js";
import type { ResolvedGeneral } from "../../config/option-table.js";
import { resolveSecret, type Secret } from "../../core/secret.js";
import type { CollectorVersion } from "./wire.js";

/** Option `collector`: where a baseplate-style event collector is and how to sign for it. */
export interface CollectorOptions {
  /** The collector's host (and port): batches go to `<scheme>://<hostname>/v<version>`. */
  hostname?: string;
  /** `https` (default) or `http`. */
  scheme?: "https" | "http";
  /** Protocol version: 2 (Thrift-JSON, the default, as baseplate's publisher), "2j" or 1 (legacy events). */
  version?: 1 | 2 | "1" | "2" | "2j";
  /** Instead of hostname and scheme: the full URL batches are posted to. */
  url?: string;
  /** Name of the signing key, sent in X-Signature. */
  keyName: string;
  /** The signing key, base64-encoded as baseplate configures it; `{ $env: "NAME" }` reads it from the environment. */
  keySecret: Secret;
  /** User-Agent header. */
  userAgent?: string;
}

export interface ResolvedCollector {
  url: URL;
  version: CollectorVersion;
  keyName: string;
  /** A KeyObject: printing the options never shows the key. */
  key: KeyObject;
  userAgent: string;
}

/** The option that names a collector store. */
export interface CollectorStoreOptions {
  /** A baseplate-style event collector instead of Datasette: `{ hostname, keyName, keySecret, version?, scheme? }` or `{ url, ... }`. Default: none. */
  collector?: CollectorOptions;
}

/** What the collector store adds to the resolved options. */
export interface CollectorPart {
  readonly collector: ResolvedCollector;
}

export const COLLECTOR_STORE_OPTIONS = {
  collector: {
    doc: {
      group: "store",
      default: "none",
      range: "see [collector.md](collector.md#option-collector)",
      meaning: "a baseplate collector instead of Datasette (giving both is an `OptionError`)",
    },
    ini: "as written",
  },
} satisfies { [K in keyof CollectorStoreOptions]-?: OptionDeclaration };

/** Checks option collector once the collector is the store, and what it rules out beside it. */
export function resolveCollectorStore(read: OptionReader, general: ResolvedGeneral): CollectorPart {
  const collector = resolveCollector(read.raw("collector"));
  if (read.has("apiUrl") || read.has("apiToken")) {
    throw new OptionError("collector", "give one store: apiUrl (and apiToken) for Datasette, or collector, not both");
  }
  if (general.requestEvents && general.serializer === undefined) {
    throw new OptionError(
      "requestEvents",
      "the collector's built-in serializers cannot encode request events: give a serializer that can, or leave requestEvents off",
    );
  }
  assertSecureTransport(
    "collector",
    collector.url,
    "collector's signed batches (keySecret)",
    general.allowInsecureHttp,
  );
  return { collector };
}

export const COLLECTOR_USER_AGENT = "events-forward-publisher/1.0";

/** baseplate's publisher defaults `collector.version` to 2; the INI and option `collector` share this default. */
const DEFAULT_VERSION: CollectorVersion = "2";

const FIELDS = new Set(["hostname", "scheme", "version", "url", "keyName", "keySecret", "userAgent"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
// Printable ASCII without the separators X-Signature uses.
const KEY_NAME = /^[\x21-\x2b\x2d-\x3c\x3e-\x7e]+$/;

/** Validates option `collector`; errors name the field (`collector.keySecret`) and never hold the key. */
export function resolveCollector(value: unknown): ResolvedCollector {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OptionError("collector", "must be an object like { hostname, keyName, keySecret }");
  }
  const o = value as Record<string, unknown>;
  rejectUnknown(o, FIELDS, `a field of option collector (fields: ${[...FIELDS].join(", ")})`, "collector.");
  const version = parseVersion(o.version);
  return {
    url: o.url !== undefined ? parseUrl(o) : buildUrl(o, version),
    version: version ?? versionFromUrl(o.url) ?? DEFAULT_VERSION,
    keyName: parseKeyName(o.keyName),
    key: parseKey(o.keySecret),
    userAgent: o.userAgent === undefined ? COLLECTOR_USER_AGENT : headerText("collector.userAgent", o.userAgent),
  };
}

function parseVersion(value: unknown): CollectorVersion | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "number" || typeof value === "string" ? String(value) : "";
  if (text === "1" || text === "2" || text === "2j") return text;
  throw new OptionError("collector.version", `must be 1, 2 or "2j", got ${JSON.stringify(value) ?? typeof value}`);
}

function buildUrl(o: Record<string, unknown>, version: CollectorVersion | undefined): URL {
  const hostname = o.hostname;
  if (hostname === undefined) throw new OptionError("collector.hostname", "is required (or give collector.url)");
  if (typeof hostname !== "string" || !/^[A-Za-z0-9.\-[\]:]+$/.test(hostname)) {
    throw new OptionError(
      "collector.hostname",
      "must be a host name, optionally with :port, such as events.example.com",
    );
  }
  const scheme = o.scheme ?? "https";
  if (scheme !== "https" && scheme !== "http") throw new OptionError("collector.scheme", 'must be "https" or "http"');
  try {
    return new URL(`${scheme}://${hostname}/v${version ?? DEFAULT_VERSION}`);
  } catch {
    throw new OptionError("collector.hostname", "does not make a valid URL");
  }
}

function parseUrl(o: Record<string, unknown>): URL {
  if (o.hostname !== undefined || o.scheme !== undefined) {
    throw new OptionError("collector.url", "give either url or hostname (and scheme), not both");
  }
  const url = checkUrl("collector.url", o.url, ["http:", "https:"]);
  if (url.username !== "" || url.password !== "")
    throw new OptionError("collector.url", "must not hold credentials: the key signs the requests");
  return url;
}

/** With a full URL and no version, the path tells it: `.../v2` is version 2. */
function versionFromUrl(url: unknown): CollectorVersion | undefined {
  if (typeof url !== "string") return undefined;
  return /\/v(1|2|2j)\/?$/.exec(new URL(url).pathname)?.[1] as CollectorVersion | undefined;
}

function parseKeyName(value: unknown): string {
  if (value === undefined) throw new OptionError("collector.keyName", "is required: the name of the signing key");
  if (typeof value !== "string" || !KEY_NAME.test(value)) {
    throw new OptionError(
      "collector.keyName",
      "must be a non-empty name of printable characters without spaces, commas or '='",
    );
  }
  return value;
}

function parseKey(value: unknown): KeyObject {
  if (value === undefined)
    throw new OptionError("collector.keySecret", 'is required: the base64-encoded signing key, or { "$env": "NAME" }');
  const text = resolveSecret("collector.keySecret", value).replace(/\s+/g, "");
  if (text.length === 0 || !BASE64.test(text)) throw new OptionError("collector.keySecret", "is not valid base64");
  return builtin("node:crypto").createSecretKey(Buffer.from(text, "base64"));
}

function headerText(option: string, value: unknown): string {
  if (typeof value !== "string" || !/^[\x20-\x7e]+$/.test(value))
    throw new OptionError(option, "must be a non-empty string of printable ASCII");
  return value;
}
