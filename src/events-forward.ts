import type { IncomingMessage, ServerResponse } from "node:http";
import type { PutTarget } from "./http/request-context.js";
import { EventTooLargeError, ForwarderClosedError, OptionError } from "./core/errors.js";
import type { EventInput, EventMeta, Serializer } from "./row/event-input.js";
import type { LegacyEvent } from "./stores/collector/legacy-event.js";
import type { CollectorOptions } from "./stores/collector/options.js";
import type { CloseResult, ForwarderStats } from "./pipeline/forwarder-contract.js";
import { Forwarder } from "./pipeline/forwarder.js";
import { RateLimiter } from "./pipeline/rate-limit.js";
import { debugSubscriber, loadStatsd, statsdSubscriber } from "./observe/metrics.js";
import { ChannelPublisher } from "./observe/channels.js";
import { withBeforeSend, type BeforeSendStats } from "./row/before-send.js";
import { createAdapters, type FrameworkAdapters } from "./http/adapters.js";
import type { EventsForwardOptions } from "./config/options.js";
import { resolveOptions } from "./config/resolve.js";
import { registerEnding } from "./core/shutdown-signals.js";
import { createTransport } from "./stores/transport.js";
import { createSink, queuedEventsOf, rowCheckOf } from "./stores/table.js";
import { LIMITS } from "./config/defaults.js";
import { DEFAULTS } from "./config/option-defaults.js";
import type { Sink } from "./pipeline/sink.js";
import { createQueue } from "./spool/kinds.js";

/** How long close() drains by default before it gives up on what is left. */
export const DEFAULT_CLOSE_TIMEOUT_MS: number = DEFAULTS.shutdownTimeoutMs;
const NO_META: EventMeta = {};

/**
 * The handle eventsForward() returns. `In` is what put() takes: `EventInput` for the Datasette row
 * (Datasette and the embedded store), the collector's events for a collector, or the first
 * parameter of your own `serializer`.
 */
export interface EventsForward<In = EventInput> extends FrameworkAdapters {
  /** Express middleware. */
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Koa middleware. */
  (ctx: unknown, next: () => Promise<unknown>): Promise<unknown>;
  /** Queues an event from outside a request; throws EventError subclasses. */
  put(event: In): void;
  /** Resolves when every event put before the call is delivered or dropped. */
  flush(): Promise<void>;
  /** Stops accepting events, drains within `timeoutMs`, and tells what was and was not delivered. */
  close(options?: { timeoutMs?: number }): Promise<CloseResult>;
  stats(): ForwarderStats & Partial<BeforeSendStats>;
  /** The property the request context is attached as (option `name`). */
  readonly contextName: string;
}

/** What put() takes from a collector: a legacy Event (version 1) or Thrift-JSON (an object or its text). */
export type CollectorEvent = LegacyEvent | Record<string, unknown> | string;

/** Creates the middleware and its forwarder; a bad option throws an OptionError naming it. */
export function eventsForward<In>(
  options: Omit<EventsForwardOptions, "serializer"> & { serializer: Serializer<In> },
): EventsForward<In>;
export function eventsForward(
  options: EventsForwardOptions & { collector: CollectorOptions & { version: 1 | "1" } },
): EventsForward<LegacyEvent>;
export function eventsForward(
  options: EventsForwardOptions & { collector: CollectorOptions },
): EventsForward<CollectorEvent>;
export function eventsForward(options: EventsForwardOptions): EventsForward;
export function eventsForward(options: EventsForwardOptions): EventsForward<unknown> {
  const o = resolveOptions(options);
  // An optional peer that is missing fails here, before any file or connection is opened.
  const statsd = o.metrics === undefined ? undefined : loadStatsd();
  // The spool first: when it cannot open, no store file has been created on the way.
  const {
    queue,
    rateLimit,
    deadLetters,
    observer: queueObserver,
  } = createQueue(o, new RateLimiter(o.maxRate, o.timePeriod * 1000));
  // Whoever creates a part closes it, once: this function made them all, so close() closes them.
  // The HTTP client is chosen, and loaded, when the first batch goes (stores/transport.ts).
  const transport = createTransport();
  let sink: Sink;
  try {
    sink = createSink(o, transport);
  } catch (error) {
    void queue.close();
    throw error;
  }
  // The forwarder publishes on the diagnostics channels; statsd and --debug are subscribers.
  const channels = new ChannelPublisher(o.name, sink.description);
  const metrics =
    o.metrics === undefined ? undefined : statsdSubscriber(channels.identity, o.metrics, o.logger, statsd);
  const stopDebug = o.logger.debug ? debugSubscriber(channels.identity, o.logger) : undefined;
  const observers = queueObserver === undefined ? [channels] : [channels, queueObserver];
  const forwarder = new Forwarder({
    settings: o,
    sink,
    queue,
    rateLimit,
    observers,
    deadLetters,
    check: rowCheckOf(o),
    requestEventShare: LIMITS.requestEventShare,
  });
  const toQueued = queuedEventsOf(o);
  let closed = false;
  let closing: Promise<CloseResult> | undefined;

  const accept = (event: unknown, meta: EventMeta, requestEvent?: boolean): void => {
    if (closed) throw new ForwarderClosedError(o.name);
    const queued = toQueued(event, meta);
    if (queued.bytes > o.maxEventSize) throw new EventTooLargeError(queued.bytes, o.maxEventSize);
    forwarder.enqueue(queued, requestEvent);
  };
  const hookCounts: BeforeSendStats = { filtered: 0, beforeSendErrors: 0 };
  // Without the option, put() is `accept` itself: no hook, no extra work.
  const target: PutTarget = {
    putWithMeta:
      o.beforeSend === undefined ? accept : withBeforeSend(o.beforeSend, accept, () => closed, hookCounts, o.logger),
  };

  /**
   * Closes within the deadline plus LIMITS.closeMarginMs, whatever stalls: past it, returns what
   * is known and lets the closing finish in the background (a durable queue keeps the batch in
   * flight; the next publisher sends it again, with the same ids).
   */
  const shutDown = (timeoutMs: number): Promise<CloseResult> => {
    const finished = closeParts(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: whoever awaits close() expects it to settle.
    const late = new Promise<CloseResult>((resolve) => {
      timer = setTimeout(() => {
        o.logger.warn(
          `close() passed its ${timeoutMs} ms deadline waiting for ${queue.durable ? "the spool" : "the queue"}; it returns now and finishes closing in the background${queue.durable ? " (what was in flight stays in the spool, to be sent again with the same ids)" : ""}`,
        );
        resolve(forwarder.resultNow());
      }, timeoutMs + LIMITS.closeMarginMs);
    });
    finished.catch((error: unknown) => o.logger.error(`closing failed: ${(error as Error).message}`));
    return Promise.race([finished, late]).finally(() => clearTimeout(timer));
  };

  /** Stop sending (draining within the deadline), then close what was made here, in order. */
  const closeParts = async (timeoutMs: number): Promise<CloseResult> => {
    await forwarder.stop(timeoutMs);
    const result = forwarder.closeResult(await queue.close());
    await deadLetters?.close();
    queueObserver?.close();
    await sink.close?.();
    await transport.close();
    stopDebug?.();
    await metrics?.close();
    return result;
  };

  const { middleware, adapters } = createAdapters(
    target,
    o,
    () => close(),
    // The Hono middleware's flush for waitUntil: each Worker request delivers on its own.
    () => forwarder.flush(true),
  );
  const close = (options?: { timeoutMs?: number }): Promise<CloseResult> => {
    const timeoutMs = options?.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || timeoutMs > LIMITS.maxCloseTimeoutMs) {
      return Promise.reject(
        new OptionError("timeoutMs", `close({ timeoutMs }) takes milliseconds from 0 to ${LIMITS.maxCloseTimeoutMs}`),
      );
    }
    closed = true;
    removeSignalHandlers();
    closing ??= shutDown(timeoutMs);
    return closing;
  };
  // Signals (option shutdownSignals) and the loop emptying with events queued drain before the end.
  const removeSignalHandlers = registerEnding({
    signals: o.shutdownSignals,
    waiting: () => forwarder.stats().queued,
    close: () => close({ timeoutMs: o.shutdownTimeoutMs }),
    logger: o.logger,
    keepAliveMs: o.shutdownTimeoutMs + LIMITS.signalGraceMs,
  });
  return Object.assign(middleware, {
    put: (event: unknown) => target.putWithMeta(event, NO_META),
    flush: () => forwarder.flush(),
    close,
    // filtered and beforeSendErrors are there when the option is.
    stats: o.beforeSend === undefined ? () => forwarder.stats() : () => ({ ...forwarder.stats(), ...hookCounts }),
    contextName: o.name,
    ...adapters,
  }) as unknown as EventsForward<unknown>;
}
