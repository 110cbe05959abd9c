import { hostname } from "node:os";
import { OptionError } from "../core/errors.js";
import { consoleLogger, silentLogger } from "../core/log.js";
import { resolveCollector } from "../stores/collector/options.js";
import { datasetteMode } from "../stores/datasette/sink.js";
import { STORE_KINDS, storeOf } from "../stores/table.js";
import { OptionReader, parseUrl, rejectUnknown, type Bag } from "../core/checks.js";
import { DEFAULTS } from "./defaults.js";
import {
  identifier,
  logger,
  parseCaptureHeaders,
  parseClientIpKey,
  parseShutdownSignals,
  resolveMetricsOptions,
} from "./option-parsers.js";
import { KNOWN_OPTIONS, type AppRequest, type EventsForwardOptions, type ResolvedOptions } from "./options.js";
import { resolveSpoolOptions } from "./spool-options.js";
import { isRedisSpool, resolveRedisSpoolOptions } from "./redis-spool-options.js";
import { assertSecureTransport } from "./transport-security.js";

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
  rejectUnknown(o, KNOWN_OPTIONS, "an option of eventsForward()");
  const collector = o.collector === undefined ? undefined : resolveCollector(o.collector);
  if (collector !== undefined && (o.apiUrl !== undefined || o.apiToken !== undefined)) {
    throw new OptionError("collector", "give one store: apiUrl (and apiToken) for Datasette, or collector, not both");
  }
  const store = storeOf(o);
  const kind = STORE_KINDS[store];
  // The store's defaults over the general ones, once: every option below reads this one bag.
  const read = new OptionReader(o as Bag, { ...DEFAULTS, ...kind.defaults });
  const apiUrl = o.apiUrl === undefined ? undefined : parseApiUrl(o.apiUrl);
  const requestEvents = read.bool("requestEvents");
  if (collector !== undefined && requestEvents && o.serializer === undefined) {
    throw new OptionError(
      "requestEvents",
      "the collector's built-in serializers cannot encode request events: give a serializer that can, or leave requestEvents off",
    );
  }
  const apiToken = o.apiToken === undefined ? undefined : read.secret("apiToken");
  const allowInsecureHttp = read.bool("allowInsecureHttp");
  // A credential never crosses a network in clear text unless the app says the network is trusted.
  if (apiToken !== undefined && apiUrl !== undefined)
    assertSecureTransport("apiUrl", apiUrl, "bearer token (apiToken)", allowInsecureHttp);
  if (collector !== undefined)
    assertSecureTransport("collector", collector.url, "collector's signed batches (keySecret)", allowInsecureHttp);
  const maxEventSize = read.int("maxEventSize", 1, 64 * 1024 * 1024);
  return {
    store,
    apiUrl,
    database: store === "sqlite" ? read.text("database") : noDatabase(o),
    spool:
      o.spool === undefined
        ? undefined
        : isRedisSpool(o.spool)
          ? resolveRedisSpoolOptions(o.spool)
          : resolveSpoolOptions(o.spool),
    publisher: publisher(o, read),
    metrics: o.metrics === undefined ? undefined : resolveMetricsOptions(o.metrics),
    apiToken,
    collector,
    instance: o.instance === undefined ? hostname() : read.text("instance"),
    table: read.text("table"),
    name: o.name === undefined ? DEFAULTS.name : identifier(o.name),
    actor: o.actor === undefined ? defaultActor : read.fn("actor"),
    requestEvents,
    requestPath: requestPath(o.requestPath),
    expressDictionaryMode: read.bool("expressDictionaryMode"),
    skip: o.skip === undefined ? undefined : read.fn("skip"),
    batchLimit: read.int("batchLimit", 1, kind.maxBatchLimit),
    maxBatchBytes: read.int("maxBatchBytes", 1, Number.MAX_SAFE_INTEGER),
    batchWaitMs: read.int("batchWaitMs", 0, 3_600_000),
    maxRate: read.int("maxRate", 1, 1_000_000),
    timePeriod: read.num("timePeriod", 0, 86_400),
    maxAttempts: read.int("maxAttempts", 1, 1_000_000),
    retryBudgetMs: read.int("retryBudgetMs", 0, Number.MAX_SAFE_INTEGER),
    backoffBaseMs: read.int("backoffBaseMs", 0, 3_600_000),
    backoffMaxMs: read.int("backoffMaxMs", 0, 3_600_000),
    maxRetryAfterMs: read.int("maxRetryAfterMs", 0, 86_400_000),
    requestTimeoutMs: read.int("requestTimeoutMs", 1, 3_600_000),
    maxEventSize,
    maxQueueSize: read.int("maxQueueSize", 1, 100_000_000),
    maxQueueBytes: read.int("maxQueueBytes", maxEventSize, Number.MAX_SAFE_INTEGER),
    allowInsecureHttp,
    allowSymlinks: read.bool("allowSymlinks"),
    shutdownSignals: parseShutdownSignals(o.shutdownSignals),
    shutdownTimeoutMs: read.int("shutdownTimeoutMs", 0, 3_600_000),
    captureHeaders: parseCaptureHeaders(o.captureHeaders, o.clientIpKey !== undefined),
    clientIpKey: o.clientIpKey === undefined ? undefined : parseClientIpKey(o.clientIpKey),
    serializer: o.serializer === undefined ? undefined : read.fn("serializer"),
    onDrop: o.onDrop === undefined ? undefined : read.fn("onDrop"),
    beforeSend: o.beforeSend === undefined ? undefined : read.fn("beforeSend"),
    deadLetter: deadLetterFile(o, read),
    logger: o.logger === false ? silentLogger : o.logger === undefined ? consoleLogger : logger(o.logger),
  };
}

/** Option deadLetter: a file path, only without a spool (a spool keeps its dead letters itself). */
function deadLetterFile(o: EventsForwardOptions, read: OptionReader): string | undefined {
  if (o.deadLetter === undefined) return undefined;
  const path = read.text("deadLetter");
  if (o.spool !== undefined)
    throw new OptionError(
      "deadLetter",
      "is for forwarders without a spool: a SQLite spool keeps its dead letters in the spool file (bounded by spool.maxDeadLetters); a Redis spool keeps none (onDrop sees them)",
    );
  if (path === ":memory:")
    throw new OptionError("deadLetter", "must be a file: dead letters in memory would not outlive the process");
  return path;
}

/** Option requestPath: "path" (the default), "route" or false. */
function requestPath(value: unknown): "path" | "route" | false {
  if (value === undefined) return DEFAULTS.requestPath;
  if (value === "path" || value === "route" || value === false) return value;
  throw new OptionError(
    "requestPath",
    'must be "path" (the path and route), "route" (the route pattern alone) or false',
  );
}

function noDatabase(o: EventsForwardOptions): undefined {
  if (o.database !== undefined && o.publisher !== false)
    throw new OptionError(
      "database",
      "names the embedded store, which is only used when no other store (apiUrl, collector) is configured",
    );
  return undefined;
}

function publisher(o: EventsForwardOptions, read: OptionReader): boolean {
  if (o.publisher === undefined) return true;
  const value = read.bool("publisher");
  if (!value && o.spool === undefined)
    throw new OptionError(
      "publisher",
      "false needs the spool option: without a spool, nothing would ever deliver this process's events",
    );
  return value;
}

/** `user.id` where each framework keeps the user: Express and Fastify `req.user`, Koa `ctx.state.user`, Hono `c.var.user`. */
function defaultActor(request: AppRequest): unknown {
  return request?.user?.id ?? request?.state?.user?.id ?? request?.var?.user?.id;
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
