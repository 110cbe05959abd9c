import { OptionError } from "../core/errors.js";
import { consoleLogger, silentLogger, type Logger } from "../core/log.js";
import type { OptionReader } from "../core/checks.js";
import type { OptionSpec } from "../core/option-spec.js";
import { logger, parseShutdownSignals, resolveMetricsOptions } from "./option-parsers.js";
import { resolveSpoolOptions, type ResolvedSpoolOptions } from "./spool-options.js";
import { isRedisSpool, resolveRedisSpoolOptions, type ResolvedRedisSpoolOptions } from "./redis-spool-options.js";

/**
 * The general options of how events travel: batches, the rate limit, retries, the queue and its
 * bounds, the spool, shutdown, dead letters, the logger and metrics. A part of GENERAL_OPTIONS
 * (option-table.ts).
 */
export const DELIVERY_OPTIONS = {
  batchLimit: {
    doc: {
      group: "batching",
      default: "`100` (collector: `10000`)",
      range: "1 to 10000 (Datasette, embedded store); 1 to 100000000 (collector)",
      meaning:
        "most events in one request. Datasette refuses more rows than its `max_insert_rows` setting, 100 by default (`datasette serve --setting max_insert_rows 1000` raises it; Datasette 1.0a41 checks it on `/-/insert` URLs only); the forwarder learns a lower limit from the first refusal and cuts batches to it, logging one warning: nothing is dropped for it",
    },
    default: 100,
    ini: "number",
    check: (read, context) => read.int("batchLimit", 1, context.maxBatchLimit),
  },
  maxBatchBytes: {
    doc: {
      group: "batching",
      default: "`512000` (500 KiB)",
      range: "1 and up",
      meaning: "most bytes of events in one request; a batch full by bytes goes at once",
    },
    default: 500 * 1024,
    ini: "number",
    check: (read) => read.int("maxBatchBytes", 1, Number.MAX_SAFE_INTEGER),
  },
  batchWaitMs: {
    doc: {
      group: "batching",
      default: "`0` (collector: `1000`)",
      range: "0 to 3600000",
      meaning: "once the rate limit allows a request, how long a batch that is not full waits for more events",
    },
    default: 0,
    ini: "number",
    check: (read) => read.int("batchWaitMs", 0, 3_600_000),
  },
  maxRate: {
    doc: { group: "batching", default: "`20`", range: "1 to 1000000", meaning: "most requests per `timePeriod`" },
    default: 20,
    ini: "number",
    check: (read) => read.int("maxRate", 1, 1_000_000),
  },
  timePeriod: {
    doc: {
      group: "batching",
      default: "`1`",
      range: "0 to 86400 seconds (not necessarily whole)",
      meaning: "the rate limit's sliding window; `0` lifts the limit",
    },
    default: 1,
    ini: "number",
    check: (read) => read.num("timePeriod", 0, 86_400),
  },
  maxAttempts: {
    doc: {
      group: "retries",
      default: "`3` (collector: unlimited)",
      range: "1 to 1000000",
      meaning:
        "sends of one batch that the store answered with a retryable error or that timed out, before the batch is halved to find the events at fault, and a lone event is dropped (a store that cannot be reached, answers 429/502/503/504, or refuses the sender with 401/403/404 uses none: it is held, see [delivery.md](delivery.md#failure-policy))",
    },
    default: 3,
    ini: "number",
    check: (read) => read.int("maxAttempts", 1, 1_000_000),
  },
  retryBudgetMs: {
    doc: {
      group: "retries",
      default: "`300000`",
      range: "0 and up",
      meaning:
        "longest a batch is retried, from its first failure that used an attempt, before it is halved as for `maxAttempts` (a store that is away or refuses the sender uses none of it); used whole, as baseplate's `RetryPolicy`: the last pause is cut to what is left of it and one more attempt is made at its end (a `Retry-After` longer than what is left gives up instead)",
    },
    default: 5 * 60_000,
    ini: "number",
    check: (read) => read.int("retryBudgetMs", 0, Number.MAX_SAFE_INTEGER),
  },
  backoffBaseMs: {
    doc: {
      group: "retries",
      default: "`1000` (collector: `2000`)",
      range: "0 to 3600000",
      meaning: "the first pause between retries: exponential backoff, doubling with jitter up to `backoffMaxMs`",
    },
    default: 1_000,
    ini: "number",
    check: (read) => read.int("backoffBaseMs", 0, 3_600_000),
  },
  backoffMaxMs: {
    doc: { group: "retries", default: "`30000`", range: "0 to 3600000", meaning: "the longest pause between retries" },
    default: 30_000,
    ini: "number",
    check: (read) => read.int("backoffMaxMs", 0, 3_600_000),
  },
  maxRetryAfterMs: {
    doc: {
      group: "retries",
      default: "`60000`",
      range: "0 to 86400000",
      meaning: "the longest pause a `Retry-After` answer can impose",
    },
    default: 60_000,
    ini: "number",
    check: (read) => read.int("maxRetryAfterMs", 0, 86_400_000),
  },
  requestTimeoutMs: {
    doc: {
      group: "retries",
      default: "`3000`",
      range: "1 to 3600000",
      meaning: "time-out of one request to the store",
    },
    default: 3_000,
    ini: "number",
    check: (read) => read.int("requestTimeoutMs", 1, 3_600_000),
  },
  maxEventSize: {
    doc: {
      group: "rows",
      default: "`102400`",
      range: "1 to 67108864 bytes",
      meaning: "largest serialized event; a larger one throws `EventTooLargeError` at `put()`",
    },
    default: 102_400,
    ini: "number",
    check: checkMaxEventSize,
  },
  maxQueueSize: {
    doc: {
      group: "queue",
      default: "`10000`",
      range: "1 to 100000000",
      meaning: "most events waiting to be sent; more throw `EventQueueFullError`",
    },
    default: 10_000,
    ini: "number",
    check: (read) => read.int("maxQueueSize", 1, 100_000_000),
  },
  maxQueueBytes: {
    doc: {
      group: "queue",
      default: "`33554432` (32 MiB)",
      range: "`maxEventSize` and up",
      meaning: "most bytes of serialized events waiting to be sent",
    },
    default: 32 * 1024 * 1024,
    ini: "number",
    check: (read) => read.int("maxQueueBytes", checkMaxEventSize(read), Number.MAX_SAFE_INTEGER),
  },
  allowInsecureHttp: {
    doc: {
      group: "store",
      default: "`false`",
      range: "boolean",
      meaning:
        "allow a token or collector key over plain `http` to a host that is not loopback (see [delivery.md](delivery.md#security))",
    },
    default: false,
    ini: "as written",
    check: (read) => read.bool("allowInsecureHttp"),
  },
  allowSymlinks: {
    doc: {
      group: "store",
      default: "`false`",
      range: "boolean",
      meaning:
        "open the spool, dead-letter or embedded-store file (or its `-wal`, `-shm`) through a symbolic link; refused by default ([operations.md](operations.md#security))",
    },
    default: false,
    ini: "as written",
    check: (read) => read.bool("allowSymlinks"),
  },
  shutdownSignals: {
    doc: {
      group: "reporting",
      default: "`true` (SIGTERM and SIGINT)",
      range: "`true`, `false`, or a list of signals",
      meaning:
        "drain on these signals, then let the process end as the signal would (see [delivery.md](delivery.md#shutdown))",
    },
    ini: "as written",
    check: (read) => parseShutdownSignals(read.raw("shutdownSignals")),
  },
  shutdownTimeoutMs: {
    doc: {
      group: "reporting",
      default: "`5000`",
      range: "0 to 3600000",
      meaning:
        "how long the drain on a shutdown signal, or when the process's loop empties with events queued, may take",
    },
    default: 5_000,
    ini: "number",
    check: (read) => read.int("shutdownTimeoutMs", 0, 3_600_000),
  },
  onDrop: {
    doc: {
      group: "reporting",
      default: "none",
      range: "`(events, reason) => void`",
      meaning: "the serialized events that will never be delivered, and why",
    },
    ini: false,
    check: (read): ((events: string[], reason: string) => void) | undefined =>
      read.has("onDrop") ? read.fn("onDrop") : undefined,
  },
  deadLetter: {
    doc: {
      group: "reporting",
      default: "none",
      range: "a file path, not `:memory:`; only without `spool`",
      meaning:
        "keeps the dropped events in a SQLite file as [dead letters](operations.md#dead-letters) (a SQLite spool keeps its own); the file is opened at the first drop, so a path that cannot be opened (or no SQLite driver) is logged then, once, rather than refused at start-up",
    },
    ini: "as written",
    check: deadLetterFile,
  },
  logger: {
    doc: {
      group: "reporting",
      default: "console",
      range: "`{ warn, error, debug? }`, or `false`",
      meaning: "where trouble reports go",
    },
    ini: false,
    check: (read) => loggerOf(read.raw("logger")),
  },
  spool: {
    doc: {
      group: "queue",
      default: "none",
      range:
        "a path or `{ path, ... }` ([SQLite](#option-spool)); a `redis://` or `rediss://` URL or `{ url, ... }` ([Redis](#option-spool-on-redis))",
      meaning:
        "a durable queue shared by processes instead of the memory queue; which kind to choose: [redis.md](redis.md)",
    },
    ini: false,
    check: (read) => (read.has("spool") ? spoolOf(read.raw("spool")) : undefined),
  },
  publisher: {
    doc: {
      group: "queue",
      default: "`true`",
      range: "boolean; `false` needs `spool`",
      meaning: "`false`: with a spool, this process only writes and another one (the sidecar) sends",
    },
    ini: false,
    check: publisher,
  },
  metrics: {
    doc: {
      group: "reporting",
      default: "none",
      range: '`{ namespace: "myapp.events", endpoint: "host:port" }`',
      meaning: "statsd counters and timers (see [spool.md](spool.md#metrics))",
    },
    ini: false,
    check: (read) => (read.has("metrics") ? resolveMetricsOptions(read.raw("metrics")) : undefined),
  },
} satisfies Record<string, OptionSpec>;

function checkMaxEventSize(read: OptionReader): number {
  return read.int("maxEventSize", 1, 64 * 1024 * 1024);
}

function loggerOf(value: unknown): Logger {
  return value === false ? silentLogger : value === undefined ? consoleLogger : logger(value);
}

function spoolOf(value: unknown): ResolvedSpoolOptions | ResolvedRedisSpoolOptions {
  return isRedisSpool(value) ? resolveRedisSpoolOptions(value) : resolveSpoolOptions(value);
}

/** Option deadLetter: a file path, only without a spool (a spool keeps its dead letters itself). */
function deadLetterFile(read: OptionReader): string | undefined {
  if (!read.has("deadLetter")) return undefined;
  const path = read.text("deadLetter");
  if (read.has("spool"))
    throw new OptionError(
      "deadLetter",
      "is for forwarders without a spool: a spool keeps its dead letters itself (in the SQLite file, or in Redis), bounded by spool.maxDeadLetters",
    );
  if (path === ":memory:")
    throw new OptionError("deadLetter", "must be a file: dead letters in memory would not outlive the process");
  return path;
}

function publisher(read: OptionReader): boolean {
  if (!read.has("publisher")) return true;
  const value = read.bool("publisher");
  if (!value && !read.has("spool"))
    throw new OptionError(
      "publisher",
      "false needs the spool option: without a spool, nothing would ever deliver this process's events",
    );
  return value;
}
