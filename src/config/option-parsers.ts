import { OptionError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { resolveSecret } from "../core/secret.js";
import {
  carriesCredential,
  CLIENT_IP_HEADERS,
  NEVER_CAPTURED_HEADERS,
  NEVER_CAPTURED_PARTS,
} from "../http/request-privacy.js";

// The options whose check is more than a type and a range (the vocabulary is in checks.ts).

export function identifier(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z_$][\w$]*$/.test(value))
    throw new OptionError("name", "must be a JavaScript identifier such as events or events_v2");
  // req.__proto__ = context would swap the request's prototype; constructor, toString... break it too.
  if (value in Object.prototype)
    throw new OptionError(
      "name",
      `${value} would replace a property every object has; choose a name such as events_v2`,
    );
  return value;
}

export function logger(value: unknown): Logger {
  const l = value as Logger;
  if (l === null || typeof l !== "object" || typeof l.warn !== "function" || typeof l.error !== "function") {
    throw new OptionError("logger", "must be false or an object with warn() and error() methods");
  }
  return l;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,256}$/;

/** Option captureHeaders: header names, lower-cased; credential headers are refused. */
export function parseCaptureHeaders(value: unknown, hasClientIpKey = false): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OptionError("captureHeaders", "must be a list of header names");
  const names = value.map((name: unknown) => {
    if (typeof name !== "string" || !HEADER_NAME.test(name.toLowerCase())) {
      throw new OptionError("captureHeaders", "must be a list of header names such as user-agent");
    }
    const lower = name.toLowerCase();
    if (carriesCredential(lower)) {
      throw new OptionError(
        "captureHeaders",
        `${lower} carries credentials and is never recorded (never: ${NEVER_CAPTURED_HEADERS.join(", ")}, nor a name containing ${NEVER_CAPTURED_PARTS.join(", ")})`,
      );
    }
    if (CLIENT_IP_HEADERS.includes(lower) && !hasClientIpKey)
      throw new OptionError(
        "captureHeaders",
        `${lower} holds client IP addresses: set clientIpKey to record them as its keyed hash, as the client IP is`,
      );
    return lower;
  });
  return [...new Set(names)];
}

/** A short key can be guessed from one known IP and its hash; then every hash is a lookup away (IPv4 has 2^32 values). */
const MIN_CLIENT_IP_KEY_LENGTH = 16;

/** Option clientIpKey: a secret (or `{ $env }`) of at least 16 characters. */
export function parseClientIpKey(value: unknown): string {
  const key = resolveSecret("clientIpKey", value);
  if (key.length < MIN_CLIENT_IP_KEY_LENGTH)
    throw new OptionError("clientIpKey", `must be at least ${MIN_CLIENT_IP_KEY_LENGTH} characters`);
  return key;
}

/** The signals `shutdownSignals: true` stands for. */
export const DEFAULT_SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/** Signals a process can catch and that conventionally ask it to stop. */
const SHUTDOWN_SIGNALS = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR2"]);

/** Option shutdownSignals: true (SIGTERM and SIGINT, the default), false (none) or a list. */
export function parseShutdownSignals(value: unknown): readonly NodeJS.Signals[] {
  if (value === false) return [];
  if (value === undefined || value === true) return DEFAULT_SHUTDOWN_SIGNALS;
  const list = value as unknown[];
  if (!Array.isArray(list) || list.some((signal) => typeof signal !== "string" || !SHUTDOWN_SIGNALS.has(signal))) {
    throw new OptionError("shutdownSignals", `must be true, false or a list of ${[...SHUTDOWN_SIGNALS].join(", ")}`);
  }
  return [...new Set(list as NodeJS.Signals[])];
}

/** Option `metrics`: baseplate's `metrics.namespace` and `metrics.endpoint`. */
export interface MetricsOptions {
  /** Prefix of every metric name, e.g. `myapp.events`. */
  namespace: string;
  /** The statsd server, `host:port` (UDP). */
  endpoint: string;
}

export interface ResolvedMetricsOptions {
  namespace: string;
  host: string;
  port: number;
}

export function resolveMetricsOptions(value: unknown): ResolvedMetricsOptions {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new OptionError("metrics", "must be { namespace, endpoint }");
  const { namespace, endpoint, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new OptionError(`metrics.${extra}`, "is not a metrics option (namespace, endpoint)");
  if (typeof namespace !== "string" || !/^[\w-]+(\.[\w-]+)*$/.test(namespace)) {
    throw new OptionError("metrics.namespace", "must be a dotted name such as myapp.events");
  }
  const match = typeof endpoint === "string" ? /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(endpoint) : null;
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65_535)
    throw new OptionError("metrics.endpoint", "must be host:port of a statsd server, e.g. 127.0.0.1:8125");
  return { namespace, host: match[1]!.replace(/^\[|\]$/g, ""), port };
}
