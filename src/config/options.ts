import type { BeforeSend } from "../row/before-send.js";
import type { Logger } from "../core/log.js";
import type { Secret } from "../core/secret.js";
import type { Serializer } from "../row/event-input.js";
import type { CollectorOptions, ResolvedCollector } from "../stores/collector/options.js";
import type { StoreName } from "../stores/table.js";
import type { MetricsOptions, ResolvedMetricsOptions } from "./option-parsers.js";
import type { ResolvedSpoolOptions, SpoolOptions } from "./spool-options.js";
import type { RedisSpoolOptions, ResolvedRedisSpoolOptions } from "./redis-spool-options.js";

export { DEFAULTS, SINK_DEFAULTS } from "./defaults.js";
export { resolveOptions } from "./resolve.js";

/**
 * Every option of eventsForward(): its type here, its default in defaults.ts, its check in
 * resolve.ts (with the vocabulary of checks.ts).
 */

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
  /** The actor id of a request; given the framework's request (Express `req`, Koa `ctx`, Fastify `request`, Hono `c`, node:http `req`). */
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
  /** Without a spool: a SQLite file that keeps the events the store refused (dead letters). */
  deadLetter?: string;
  /** Called with the serialized events that will never be delivered, and why. */
  onDrop?: (events: string[], reason: string) => void;
  /** Where warnings go; `false` for none. Default: console. */
  logger?: Logger | false;
  /** The embedded store, used when no apiUrl is given: a SQLite file (node:sqlite on Node 22.13+, else better-sqlite3). */
  database?: string;
  /** A durable spool that processes share instead of the memory queue: a path, or { path, ... } (SQLite); a redis:// URL, or { url, ... } (Redis). */
  spool?: string | SpoolOptions | RedisSpoolOptions;
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
    | "apiUrl"
    | "apiToken"
    | "collector"
    | "actor"
    | "skip"
    | "serializer"
    | "onDrop"
    | "logger"
    | "beforeSend"
    | "deadLetter"
    | "shutdownSignals"
    | "captureHeaders"
    | "clientIpKey"
    | "database"
    | "spool"
    | "metrics"
  >
> & {
  /** The store the options name (stores/table.ts). */
  store: StoreName;
  /** At most one of apiUrl, collector and database is set (none when publisher is false). */
  apiUrl?: URL;
  /** Set when the store is the embedded SQLite file. */
  database?: string;
  spool?: ResolvedSpoolOptions | ResolvedRedisSpoolOptions;
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
  deadLetter?: string;
  logger: Logger;
};

/** Every option name eventsForward() understands; anything else is a typo worth reporting. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  "apiUrl",
  "apiToken",
  "collector",
  "instance",
  "table",
  "name",
  "actor",
  "requestEvents",
  "expressDictionaryMode",
  "skip",
  "batchLimit",
  "maxBatchBytes",
  "batchWaitMs",
  "maxRate",
  "timePeriod",
  "maxAttempts",
  "retryBudgetMs",
  "backoffBaseMs",
  "backoffMaxMs",
  "maxRetryAfterMs",
  "requestTimeoutMs",
  "maxEventSize",
  "maxQueueSize",
  "serializer",
  "onDrop",
  "logger",
  "maxQueueBytes",
  "allowInsecureHttp",
  "shutdownSignals",
  "shutdownTimeoutMs",
  "captureHeaders",
  "clientIpKey",
  "database",
  "spool",
  "publisher",
  "metrics",
  "beforeSend",
  "deadLetter",
]);
