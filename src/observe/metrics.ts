import { createRequire } from "node:module";
import type { StatsD } from "hot-shots";
import type { ResolvedMetricsOptions } from "../config/option-parsers.js";
import type { Logger } from "../core/log.js";
import type { ForwarderObserver } from "../pipeline/observer.js";

/**
 * Counters and a timer, as baseplate's publisher names them: `<namespace>.sent` (events),
 * `.error.http` and `.error.io` (failed requests), `.dropped` (events), `.overflowed` (puts
 * refused), and the timer `.post` for each request. UDP: a missing statsd server costs nothing.
 */
export function statsdObserver(options: ResolvedMetricsOptions, logger: Logger): ForwarderObserver & { close(): Promise<void> } {
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
  return {
    onRequestStart: () => {},
    onRequest(result, ms) {
      client.timing("post", ms);
      if (!result.ok) client.increment(result.status === undefined ? "error.io" : "error.http");
    },
    onSent: (events) => client.increment("sent", events),
    onDrop: (events) => client.increment("dropped", events),
    onOverflow: () => client.increment("overflowed"),
    close: () => new Promise((resolve) => client.close(() => resolve())),
  };
}

/** The sidecar's --debug: one line per request. */
export function debugObserver(logger: Logger): ForwarderObserver {
  const debug = (message: string) => logger.debug?.(message);
  return {
    onRequestStart: () => {},
    onRequest: (result, ms, events) =>
      debug(`${result.ok ? "sent" : "failed to send"} ${events} event(s) in ${Math.round(ms)} ms${result.ok ? "" : `: ${result.reason}`}`),
    onSent: () => {},
    onDrop: (events) => debug(`dropped ${events} event(s)`),
    onOverflow: () => debug("refused an event: the queue is full"),
  };
}
