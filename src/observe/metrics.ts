import { createRequire } from "node:module";
import type { StatsD } from "hot-shots";
import { OptionError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { ForwarderIdentity } from "./channels.js";
import { listen } from "./listen.js";

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
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new OptionError("metrics", "must be { namespace, endpoint }");
  const { namespace, endpoint, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new OptionError(`metrics.${extra}`, "is not a metrics option (namespace, endpoint)");
  if (typeof namespace !== "string" || !/^[\w-]+(\.[\w-]+)*$/.test(namespace)) {
    throw new OptionError("metrics.namespace", "must be a dotted name such as myapp.events");
  }
  const match = typeof endpoint === "string" ? /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(endpoint) : null;
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65_535) throw new OptionError("metrics.endpoint", "must be host:port of a statsd server, e.g. 127.0.0.1:8125");
  return { namespace, host: match[1]!.replace(/^\[|\]$/g, ""), port };
}

/**
 * Counters and a timer, as baseplate's publisher names them: `<namespace>.sent` (events),
 * `.error.http` and `.error.io` (failed requests), `.dropped` (events), `.overflowed` (puts
 * refused), and the timer `.post` for each request. UDP: a missing statsd server costs nothing.
 * A subscriber of the forwarder's diagnostics channels (observe/channels.ts), for one forwarder.
 */
export function statsdSubscriber(forwarder: ForwarderIdentity, options: ResolvedMetricsOptions, logger: Logger): { close(): Promise<void> } {
  // Loaded here, not at import: apps without metrics never load the client.
  const { StatsD: Client } = createRequire(import.meta.url)("hot-shots") as { StatsD: new (o: object) => StatsD };
  let warned = false;
  const client = new Client({
    host: options.host,
    port: options.port,
    prefix: `${options.namespace}.`,
    errorHandler: (error: Error) => {
      // Metrics must never disturb delivery; say so once.
      if (!warned) logger.warn(`metrics to ${options.host}:${options.port} failed: ${error.message}`);
      warned = true;
    },
  });
  const stop = listen(
    {
      request(context) {
        client.timing("post", context.durationMs!);
        if (context.outcome === "sent") client.increment("sent", context.events);
        else client.increment(context.status === undefined ? "error.io" : "error.http");
      },
      dropped: (message) => client.increment("dropped", message.events),
      overflowed: () => client.increment("overflowed"),
    },
    forwarder,
  );
  return {
    close: () => {
      stop();
      return new Promise((resolve) => client.close(() => resolve()));
    },
  };
}

/** The sidecar's --debug: one line per request; returns the function that stops it. */
export function debugSubscriber(forwarder: ForwarderIdentity, logger: Logger): () => void {
  const debug = (message: string) => logger.debug?.(message);
  return listen(
    {
      request: (c) => debug(`${c.outcome === "sent" ? "sent" : "failed to send"} ${c.events} event(s) in ${Math.round(c.durationMs!)} ms${c.outcome === "sent" ? "" : `: ${c.reason}`}`),
      dropped: (m) => debug(`dropped ${m.events} event(s)`),
      overflowed: () => debug("refused an event: the queue is full"),
    },
    forwarder,
  );
}
