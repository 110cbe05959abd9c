import type { BeforeSend } from "../row/before-send.js";
import type { Logger } from "../core/log.js";
import type { Secret } from "../core/secret.js";
import type { Serializer } from "../row/event-input.js";
import type { CollectorPart, CollectorStoreOptions } from "../stores/collector/options.js";
import type { DatasetteOptions, DatasettePart } from "../stores/datasette/options.js";
import type { SqliteStoreOptions, SqlitePart } from "../stores/sqlite/options.js";
import type { MetricsOptions } from "./option-parsers.js";
import type { SpoolOptions } from "./spool-options.js";
import type { RedisSpoolOptions } from "./redis-spool-options.js";
import type { AppRequest, GENERAL_OPTIONS, ResolvedGeneral } from "./option-table.js";

export type { AppRequest, ResolvedGeneral };

/**
 * The options of eventsForward(): their types and hover text here; their defaults, checks, INI
 * keys and doc rows in config/option-table.ts (general) and stores/<store>/options.ts (a store's
 * own). Each comment gives the default and the unit.
 */
export interface GeneralOptions {
  /** Names the app instance in every row (`instance` column). Default: the host name (`os.hostname()`). */
  instance?: string;
  /** Table a `/-/create` URL (or the embedded store) writes to. Default: `"datasette_events"`. */
  table?: string;
  /** Property the request context is attached as: `req[name]` / `ctx[name]`. Default: `"events"`. */
  name?: string;
  /** The actor id of a request; given the framework's request (Express `req`, Koa `ctx`, Fastify `request`, Hono `c`, node:http `req`). Default: `user?.id` where the framework keeps the user. */
  actor?: (request: AppRequest) => unknown;
  /** Record one `request` event per request. Default: `true` (collector: `false`). */
  requestEvents?: boolean;
  /**
   * What a request event records of the URL: "path" (the path without its query, and the route
   * pattern), "route" (the route pattern alone, where the framework knows it), false (neither).
   * Default: `"path"`.
   */
  requestPath?: "path" | "route" | false;
  /** On Node 20 and 22, switch Express's `req` and `res` to V8's dictionary mode (see README). Default: `true`. */
  expressDictionaryMode?: boolean;
  /** Return true to record no request event for this request (health checks, say). Default: none. */
  skip?: (request: AppRequest) => boolean;
  /** Most events in one batch (count). Default: `100` (collector: `10000`). */
  batchLimit?: number;
  /** Most bytes of events in one batch. Default: `512000` bytes (500 KiB). */
  maxBatchBytes?: number;
  /** How long a batch that is not full waits for more events once the rate limit allows it to go, in milliseconds. Default: `0` (collector: `1000`). */
  batchWaitMs?: number;
  /** Most requests to the store per `timePeriod` (count). Default: `20`. */
  maxRate?: number;
  /** The rate limit's window, in seconds (not necessarily whole; `0` lifts the limit). Default: `1` second. */
  timePeriod?: number;
  /** Sends of one batch that the store answered with a retryable error (or that timed out) before its events are dropped (count). Default: `3` (collector: unlimited). */
  maxAttempts?: number;
  /** Longest a batch is retried, from its first send, before its events are dropped, in milliseconds. Default: `300000` (5 minutes). */
  retryBudgetMs?: number;
  /** The first pause between retries, in milliseconds; it doubles (with jitter) up to backoffMaxMs. Default: `1000` (collector: `2000`). */
  backoffBaseMs?: number;
  /** The longest pause between retries, in milliseconds. Default: `30000`. */
  backoffMaxMs?: number;
  /** Longest pause a `Retry-After` header can impose, in milliseconds. Default: `60000`. */
  maxRetryAfterMs?: number;
  /** Time-out of one request to the store, in milliseconds. Default: `3000`. */
  requestTimeoutMs?: number;
  /** Largest serialized event, in bytes; larger ones throw EventTooLargeError. Default: `102400` bytes. */
  maxEventSize?: number;
  /** Most events waiting (count); more throw EventQueueFullError. Default: `10000`. */
  maxQueueSize?: number;
  /** Turns what the app puts into the text sent. Default: the Datasette row (collector: its protocol's serializer). */
  serializer?: Serializer;
  /** Sees every event put() is given (request events too): returns it, changed or not, or null to drop it. Default: none. */
  beforeSend?: BeforeSend;
  /** Without a spool: a SQLite file that keeps the events the store refused (dead letters). Default: none. */
  deadLetter?: string;
  /** Called with the serialized events that will never be delivered, and why. Default: none. */
  onDrop?: (events: string[], reason: string) => void;
  /** Where warnings go; `false` for none. Default: console. */
  logger?: Logger | false;
  /** A durable spool that processes share instead of the memory queue: a path, or { path, ... } (SQLite); a redis:// URL, or { url, ... } (Redis). Default: none (the memory queue). */
  spool?: string | SpoolOptions | RedisSpoolOptions;
  /** With a spool: false makes this process only write, another one (the sidecar) delivers. Default: `true`. */
  publisher?: boolean;
  /** statsd metrics: { namespace, endpoint: "host:port" }. Default: none. */
  metrics?: MetricsOptions;
  /** Most bytes of serialized events waiting; more throw EventQueueFullError. Default: `33554432` bytes (32 MiB). */
  maxQueueBytes?: number;
  /** Send the token over plain http to a host that is not loopback (refused by default). Default: `false`. */
  allowInsecureHttp?: boolean;
  /** Open the spool, dead-letter or embedded-store file through a symbolic link (refused by default). Default: `false`. */
  allowSymlinks?: boolean;
  /** Close (drain) on these signals, then let the process end as the signal would; `true`: SIGTERM and SIGINT; `false`: none. Default: `true`. */
  shutdownSignals?: boolean | NodeJS.Signals[];
  /** How long the drain on a shutdown signal may take, in milliseconds. Default: `5000`. */
  shutdownTimeoutMs?: number;
  /** Request headers a request event records (never authorization, proxy-authorization, cookie, set-cookie). Default: none. */
  captureHeaders?: string[];
  /** Record the client IP in request events, as an HMAC-SHA256 keyed with this secret (16+ characters). Default: none (no IP recorded). */
  clientIpKey?: Secret;
}

/** Every option eventsForward() takes: the general ones and each store's own. */
export interface EventsForwardOptions
  extends GeneralOptions, DatasetteOptions, CollectorStoreOptions, SqliteStoreOptions {}

/** The compiler holds the general table and GeneralOptions to one entry per option, both ways. */
export type GeneralTableMatches = SameKeys<GeneralOptions, typeof GENERAL_OPTIONS>;
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : never) : never;

/**
 * What each store adds to the resolved options: its own options, checked (stores/<store>/options.ts).
 * Adding a store adds its line here and its entry in stores/table.ts.
 */
export interface StoreParts {
  datasette: DatasettePart;
  collector: CollectorPart;
  sqlite: SqlitePart;
}

export type StoreName = keyof StoreParts;

/** The resolved options when the store is `S`. */
export type ResolvedFor<S extends StoreName> = ResolvedGeneral & { readonly store: S } & StoreParts[S];

/**
 * Every option, checked, keyed by the store they name (`store`): narrow on it to read a store's
 * own. Generic in the store so that code given options of any store can look its store up in
 * STORE_KINDS and hand them on, typed (a correlated union).
 */
export type ResolvedOptions<K extends StoreName = StoreName> = { [S in K]: ResolvedFor<S> }[K];
