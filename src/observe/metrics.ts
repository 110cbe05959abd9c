import { createRequire } from "node:module";
import type { StatsD } from "hot-shots";
import type { ResolvedMetricsOptions } from "../config/option-parsers.js";
import type { Logger } from "../core/log.js";
import { requireOptional } from "../core/optional-package.js";
import type { ForwarderIdentity } from "./channels.js";
import { listen } from "./listen.js";

export type StatsdClass = new (options: object) => StatsD;

/**
 * hot-shots' client, loaded when `metrics` is set and not at import: it is an optional peer
 * dependency. Missing, it is an OptionError naming `metrics` and the package to install.
 */
export function loadStatsd(load: (id: string) => unknown = createRequire(import.meta.url)): StatsdClass {
  return requireOptional<{ StatsD: StatsdClass }>("metrics", "hot-shots", load).StatsD;
}

/**
 * Counters and a timer, as baseplate's publisher names them: `<namespace>.sent` (events),
 * `.error.http` and `.error.io` (failed requests), `.dropped` (events), `.overflowed` (puts
 * refused), and the timer `.post` for each request. UDP: a missing statsd server costs nothing.
 * A subscriber of the forwarder's diagnostics channels (observe/channels.ts), for one forwarder.
 */
export function statsdSubscriber(
  forwarder: ForwarderIdentity,
  options: ResolvedMetricsOptions,
  logger: Logger,
  Client: StatsdClass = loadStatsd(),
): { close(): Promise<void> } {
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
      request: (c) =>
        debug(
          `${c.outcome === "sent" ? "sent" : "failed to send"} ${c.events} event(s) in ${Math.round(c.durationMs!)} ms${c.outcome === "sent" ? "" : `: ${c.reason}`}`,
        ),
      dropped: (m) => debug(`dropped ${m.events} event(s)`),
      overflowed: () => debug("refused an event: the queue is full"),
    },
    forwarder,
  );
}
