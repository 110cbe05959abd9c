import { hostname } from "node:os";
import { resolveCollector, type CollectorOptions, type ResolvedCollector } from "../stores/collector/options.js";
import { OptionError } from "../core/errors.js";
import type { Serializer } from "../row/event-input.js";
import type { BeforeSend } from "../row/before-send.js";
import { consoleLogger, silentLogger, type Logger } from "../core/log.js";
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from "../observe/metrics.js";
import { parseCaptureHeaders, parseClientIpKey } from "../http/request-privacy.js";
import { resolveSecret, type Secret } from "../core/secret.js";
import { parseShutdownSignals } from "../core/shutdown-signals.js";
import { datasetteMode } from "../stores/datasette/sink.js";
import { resolveSpoolOptions, type ResolvedSpoolOptions, type SpoolOptions } from "./spool-options.js";
import { assertSecureTransport } from "./transport-security.js";
import { DEFAULTS, SINK_DEFAULTS } from "./defaults.js";
import { bool, fn, identifier, int, logger, num, text, type Bag } from "./checks.js";

export { DEFAULTS, SINK_DEFAULTS };

/** The request a callback is given: Express's `req`, or Koa's `ctx`. */
export type AppRequest = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EventsForwardOptions {
  /** Datasette write API: `https://host/db/-/create` or `https://host/db/table/-/insert`. */
  apiUrl?: string;
  /** Bearer token for the write API; `{ $env: "NAME" }` reads it from the environment. */
  apiToken?: Secret;
  /** A baseplate-style event collector instead of Datasette: `{ hostname, keyName, keySecret, version?, scheme? }` or `{ url, ... }`. */
  collector?: CollectorOptions;
  /** Names the app instance in every row (`instance` column). Default: the host name. */
  instance?: string;
  /** Table a `/-/create` URL writes to. */
  table?: string;
  /** Property the request context is attached as: `req[name]` / `ctx[name]`. */
  name?: string;
  /** The actor id of a request; given Express's `req` or Koa's `ctx`. */
  actor?: (request: AppRequest) => unknown;
  /** Record one `request` event per request. */
  requestEvents?: boolean;
  /** On Node 20 and 22, switch Express's `req` and `res` to V8's dictionary mode (see README). */
  expressDictionaryMode?: boolean;
  /** Return true to record no request event for this request (health checks, say). */
  skip?: (request: AppRequest) => boolean;
  /** Most events in one batch. */
  batchLimit?: number;
  /** Most bytes of events in one batch. */
  maxBatchBytes?: number;
  /** How long a batch that is not full waits for more events once the rate limit allows it to go. */
  batchWaitMs?: number;
  /** Most requests to the store per `timePeriod`. */
  maxRate?: number;
  /** The rate limit's window, in seconds. */
  timePeriod?: number;
  /** Sends of one batch that the store answered with a retryable error (or that timed out) before its events are dropped. */
  maxAttempts?: number;
  /** Longest a batch is retried, from its first send, before its events are dropped. */
  retryBudgetMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest pause a `Retry-After` header can impose. */
  maxRetryAfterMs?: number;
  requestTimeoutMs?: number;
  /** Largest serialized event, in bytes; larger ones throw EventTooLargeError. */
  maxEventSize?: number;
  /** Most events waiting; more throw EventQueueFullError. */
  maxQueueSize?: number;
  /** Turns what the app puts into the text sent; default: the Datasette row. */
  serializer?: Serializer;
  /** Sees every event put() is given (request events too): returns it, changed or not, or null to drop it. */
  beforeSend?: BeforeSend;
  /** Called with the serialized events that will never be delivered, and why. */
  onDrop?: (events: string[], reason: string) => void;
  /** Where warnings go; `false` for none. Default: console. */
  logger?: Logger | false;
  /** The embedded store, used when no apiUrl is given: a SQLite file (needs better-sqlite3). */
  database?: string;
  /** Without a spool: a SQLite file that keeps the events the store refused (dead letters). */
  deadLetter?: string;
  /** A durable spool that processes share instead of the memory queue: a path, or { path, ... }. */
  spool?: string | SpoolOptions;
  /** With a spool: false makes this process only write, another one (the sidecar) delivers. */
  publisher?: boolean;
  /** statsd metrics: { namespace, endpoint: "host:port" }. */
  metrics?: MetricsOptions;
  /** Most bytes of serialized events waiting; more throw EventQueueFullError. */
  maxQueueBytes?: number;
  /** Send the token over plain http to a host that is not loopback (refused by default). */
  allowInsecureHttp?: boolean;
  /** Close (drain) on these signals, then let the process end; `true`: SIGTERM and SIGINT. */
  shutdownSignals?: boolean | NodeJS.Signals[];
  /** How long the drain on a shutdown signal may take. */
  shutdownTimeoutMs?: number;
  /** Request headers a request event records (never authorization, proxy-authorization, cookie, set-cookie). */
  captureHeaders?: string[];
  /** Record the client IP in request events, as an HMAC-SHA256 keyed with this secret (16+ characters). */
  clientIpKey?: Secret;
}

export type ResolvedOptions = Required<
  Omit<
    EventsForwardOptions,
    | "apiUrl" | "apiToken" | "collector" | "actor" | "skip" | "serializer" | "onDrop" | "logger" | "beforeSend"
    | "shutdownSignals" | "captureHeaders" | "clientIpKey" | "database" | "spool" | "metrics" | "deadLetter"
  >
> & {
  /** At most one of apiUrl, collector and database is set (none when publisher is false). */
  apiUrl?: URL;
  /** Set when the store is the embedded SQLite file. */
  database?: string;
  spool?: ResolvedSpoolOptions;
  deadLetter?: string;
  metrics?: ResolvedMetricsOptions;
  apiToken?: string;
  collector?: ResolvedCollector;
  shutdownSignals: readonly NodeJS.Signals[];
  captureHeaders: readonly string[];
  clientIpKey?: string;
  actor: (request: AppRequest) => unknown;
  skip?: (request: AppRequest) => boolean;
  serializer?: Serializer;
  onDrop?: (events: string[], reason: string) => void;
  beforeSend?: BeforeSend;
  logger: Logger;
};

/** The most rows a batch may carry to Datasette or the embedded SQLite file: one write, one transaction. */
const MAX_BATCH_ROWS = 10_000;

/** Validates every option once, at start-up; a bad one throws an OptionError that names it. */
export function resolveOptions(options: EventsForwardOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new OptionError("options", "eventsForward() takes an options object");
  }
  try {
    return resolve(options);
  } catch (error) {
    // An options object whose getters throw (a Proxy, say) still fails as an OptionError.
    if (error instanceof OptionError) throw error;
    throw new OptionError("options", `could not be read: ${(error as Error)?.message ?? String(error)}`);
  }
}

function resolve(o: EventsForwardOptions): ResolvedOptions {
  rejectUnknown(o);
  const collector = o.collector === undefined ? undefined : resolveCollector(o.collector);
  if (collector !== undefined && (o.apiUrl !== undefined || o.apiToken !== undefined)) {
    throw new OptionError("collector", "give one store: apiUrl (and apiToken) for Datasette, or collector, not both");
  }
  const apiUrl = o.apiUrl === undefined ? undefined : parseApiUrl(o.apiUrl);
  const embedded = collector === undefined && usesEmbeddedStore(o);
  const d: Bag = { ...DEFAULTS, ...SINK_DEFAULTS[collector !== undefined ? "collector" : embedded ? "sqlite" : "datasette"] };
  // The collector's real limit is bytes (maxBatchBytes). Datasette takes up to its max_insert_rows
  // setting (100 by default; the forwarder learns a lower one from the first refusal).
  const batchLimit = int(o, "batchLimit", 1, collector === undefined ? MAX_BATCH_ROWS : 100_000_000, d);
  const requestEvents = o.requestEvents === undefined ? (d.requestEvents as boolean) : bool(o, "requestEvents");
  if (collector !== undefined && requestEvents && o.serializer === undefined) {
    throw new OptionError("requestEvents", "the collector's built-in serializers cannot encode request events: give a serializer that can, or leave requestEvents off");
  }
  const apiToken = o.apiToken === undefined ? undefined : resolveSecret("apiToken", o.apiToken);
  const allowInsecureHttp = o.allowInsecureHttp === undefined ? false : bool(o, "allowInsecureHttp");
  // A credential never crosses a network in clear text unless the app says the network is trusted.
  if (apiToken !== undefined && apiUrl !== undefined) assertSecureTransport("apiUrl", apiUrl, "bearer token (apiToken)", allowInsecureHttp);
  if (collector !== undefined) assertSecureTransport("collector", collector.url, "collector's signed batches (keySecret)", allowInsecureHttp);
  const maxEventSize = int(o, "maxEventSize", 1, 64 * 1024 * 1024);
  return {
    apiUrl,
    database: embedded ? (o.database === undefined ? DEFAULTS.database : text(o, "database")) : noDatabase(o),
    spool: o.spool === undefined ? undefined : resolveSpoolOptions(o.spool),
    deadLetter: deadLetterFile(o),
    publisher: publisher(o),
    metrics: o.metrics === undefined ? undefined : resolveMetricsOptions(o.metrics),
    apiToken,
    collector,
    instance: o.instance === undefined ? hostname() : text(o, "instance"),
    table: o.table === undefined ? DEFAULTS.table : text(o, "table"),
    name: o.name === undefined ? DEFAULTS.name : identifier(o.name),
    actor: o.actor === undefined ? defaultActor : fn(o, "actor"),
    requestEvents,
    expressDictionaryMode: o.expressDictionaryMode === undefined ? DEFAULTS.expressDictionaryMode : bool(o, "expressDictionaryMode"),
    skip: o.skip === undefined ? undefined : fn(o, "skip"),
    batchLimit,
    maxBatchBytes: int(o, "maxBatchBytes", 1, Number.MAX_SAFE_INTEGER),
    batchWaitMs: int(o, "batchWaitMs", 0, 3_600_000, d),
    maxRate: int(o, "maxRate", 1, 1_000_000, d),
    timePeriod: num(o, "timePeriod", 0, 86_400, d),
    maxAttempts: int(o, "maxAttempts", 1, 1_000_000, d),
    retryBudgetMs: int(o, "retryBudgetMs", 0, Number.MAX_SAFE_INTEGER),
    backoffBaseMs: int(o, "backoffBaseMs", 0, 3_600_000),
    backoffMaxMs: int(o, "backoffMaxMs", 0, 3_600_000),
    maxRetryAfterMs: int(o, "maxRetryAfterMs", 0, 86_400_000),
    requestTimeoutMs: int(o, "requestTimeoutMs", 1, 3_600_000),
    maxEventSize,
    maxQueueSize: int(o, "maxQueueSize", 1, 100_000_000),
    maxQueueBytes: int(o, "maxQueueBytes", maxEventSize, Number.MAX_SAFE_INTEGER),
    allowInsecureHttp,
    shutdownSignals: parseShutdownSignals(o.shutdownSignals),
    shutdownTimeoutMs: int(o, "shutdownTimeoutMs", 0, 3_600_000),
    captureHeaders: parseCaptureHeaders(o.captureHeaders),
    clientIpKey: o.clientIpKey === undefined ? undefined : parseClientIpKey(o.clientIpKey),
    serializer: o.serializer === undefined ? undefined : fn(o, "serializer"),
    onDrop: o.onDrop === undefined ? undefined : fn(o, "onDrop"),
    beforeSend: o.beforeSend === undefined ? undefined : fn(o, "beforeSend"),
    logger: o.logger === false ? silentLogger : o.logger === undefined ? consoleLogger : logger(o.logger),
  };
}

/** Every option name eventsForward() understands; anything else is a typo worth reporting. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  "apiUrl", "apiToken", "collector", "instance", "table", "name", "actor", "requestEvents", "expressDictionaryMode", "skip", "batchLimit",
  "maxBatchBytes", "batchWaitMs", "maxRate", "timePeriod", "maxAttempts", "retryBudgetMs",
  "backoffBaseMs", "backoffMaxMs", "maxRetryAfterMs", "requestTimeoutMs", "maxEventSize",
  "maxQueueSize", "serializer", "onDrop", "logger",
  "maxQueueBytes", "allowInsecureHttp", "shutdownSignals", "shutdownTimeoutMs", "captureHeaders", "clientIpKey",
  "database", "spool", "publisher", "metrics",
  "beforeSend", "deadLetter",
]);

/** Option deadLetter: a file path, only without a spool (a spool keeps its dead letters itself). */
function deadLetterFile(o: EventsForwardOptions): string | undefined {
  if (o.deadLetter === undefined) return undefined;
  const path = text(o, "deadLetter");
  if (o.spool !== undefined) throw new OptionError("deadLetter", "is for forwarders without a spool: with one, dead letters are kept in the spool file (bounded by spool.maxDeadLetters)");
  if (path === ":memory:") throw new OptionError("deadLetter", "must be a file: dead letters in memory would not outlive the process");
  return path;
}

/** No other store configured: events go to the local SQLite file (option database). */
function usesEmbeddedStore(o: EventsForwardOptions): boolean {
  // A process that only writes to the spool has no store of its own.
  return o.apiUrl === undefined && o.collector === undefined && o.publisher !== false;
}

function noDatabase(o: EventsForwardOptions): undefined {
  if (o.database !== undefined && o.publisher !== false) throw new OptionError("database", "names the embedded store, which is only used when no other store (apiUrl, collector) is configured");
  return undefined;
}

function publisher(o: EventsForwardOptions): boolean {
  if (o.publisher === undefined) return true;
  const value = bool(o, "publisher");
  if (!value && o.spool === undefined) throw new OptionError("publisher", "false needs the spool option: without a spool, nothing would ever deliver this process's events");
  return value;
}

function rejectUnknown(o: object): void {
  for (const key of Object.keys(o)) {
    if (KNOWN_OPTIONS.has(key)) continue;
    const near = [...KNOWN_OPTIONS].find((known) => known.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ""));
    throw new OptionError(key, `is not an option of eventsForward()${near ? ` (did you mean ${near}?)` : ""}`);
  }
}

function defaultActor(request: AppRequest): unknown {
  return request?.user?.id ?? request?.state?.user?.id;
}

function parseApiUrl(value: unknown): URL {
  if (typeof value !== "string") throw new OptionError("apiUrl", "must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError("apiUrl", "is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new OptionError("apiUrl", "must be an http or https URL");
  if (datasetteMode(url) === undefined) {
    throw new OptionError("apiUrl", "must end in /-/create (create the table and insert) or /<table>/-/insert (insert only)");
  }
  return url;
}
