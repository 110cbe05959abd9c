import type { IncomingMessage, ServerResponse } from "node:http";
import type { PutTarget } from "./http/request-events.js";
import { DatasetteRows } from "./row/datasette-row.js";
import { EventError, EventTooLargeError, ForwarderClosedError, OptionError } from "./core/errors.js";
import { describe, type EventInput, type EventMeta } from "./row/event-input.js";
import { Forwarder, type CloseResult, type ForwarderStats } from "./pipeline/forwarder.js";
import { RateLimiter } from "./pipeline/rate-limit.js";
import { debugSubscriber, statsdSubscriber } from "./observe/metrics.js";
import { ChannelPublisher } from "./observe/channels.js";
import { withBeforeSend, type BeforeSendStats } from "./row/before-send.js";
import { createMiddleware } from "./http/middleware.js";
import { resolveOptions, type EventsForwardOptions, type ResolvedOptions } from "./config/options.js";
import type { QueuedEvent } from "./pipeline/queue.js";
import { installShutdownSignals } from "./core/shutdown-signals.js";
import { createAgent } from "./stores/http.js";
import { createSink, defaultSerializer } from "./stores/table.js";
import type { Sink } from "./pipeline/sink.js";
import { createQueue } from "./spool/kinds.js";

/** How long close() drains by default before it gives up on what is left. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
const MAX_CLOSE_TIMEOUT_MS = 2_147_483_647;
/** How much longer than its deadline a drain on a signal may keep the process alive. */
const SIGNAL_GRACE_MS = 1_000;

const NO_META: EventMeta = {};

export interface EventsForward {
  /** Express middleware. */
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Koa middleware. */
  (ctx: unknown, next: () => Promise<unknown>): Promise<unknown>;
  /** Queues an event from outside a request; throws EventError subclasses. */
  put(event: EventInput | object | string): void;
  /** Resolves when every event put before the call is delivered or dropped. */
  flush(): Promise<void>;
  /** Stops accepting events, drains within `timeoutMs`, and tells what was and was not delivered. */
  close(options?: { timeoutMs?: number }): Promise<CloseResult>;
  stats(): ForwarderStats & Partial<BeforeSendStats>;
  /** The property the request context is attached as (option `name`). */
  readonly contextName: string;
}

/** Creates the middleware and its forwarder; a bad option throws an OptionError naming it. */
export function eventsForward(options: EventsForwardOptions): EventsForward {
  const o = resolveOptions(options);
  // The spool first: when it cannot open, no store file has been created on the way.
  const { queue, rateLimit, deadLetters, observer: queueObserver } = createQueue(o, new RateLimiter(o.maxRate, o.timePeriod * 1000));
  // Whoever creates a part closes it, once: this function made them all, so close() closes them.
  const agent = createAgent();
  let sink: Sink;
  try {
    sink = createSink(o, agent);
  } catch (error) {
    void queue.close();
    void agent.close();
    throw error;
  }
  // The forwarder publishes on the diagnostics channels; statsd and --debug are subscribers.
  const channels = new ChannelPublisher(o.name, sink.description);
  const metrics = o.metrics === undefined ? undefined : statsdSubscriber(channels.identity, o.metrics, o.logger);
  const stopDebug = o.logger.debug ? debugSubscriber(channels.identity, o.logger) : undefined;
  const forwarder = new Forwarder({ settings: o, sink, queue, rateLimit, observers: queueObserver === undefined ? [channels] : [channels, queueObserver], deadLetters });
  const toQueued = queuedEventMaker(o);
  let closed = false;
  let closing: Promise<CloseResult> | undefined;

  const accept = (event: unknown, meta: EventMeta): void => {
    if (closed) throw new ForwarderClosedError(o.name);
    const queued = toQueued(event, meta);
    if (queued.bytes > o.maxEventSize) throw new EventTooLargeError(queued.bytes, o.maxEventSize);
    forwarder.enqueue(queued);
  };
  const hookCounts: BeforeSendStats = { filtered: 0, beforeSendErrors: 0 };
  // Without the option, put() is `accept` itself: no hook, no extra work.
  const target: PutTarget = {
    putWithMeta: o.beforeSend === undefined ? accept : withBeforeSend(o.beforeSend, accept, () => closed, hookCounts, o.logger),
  };

  /** Stop sending (draining within the deadline), then close what was made here, in order. */
  const shutDown = async (timeoutMs: number): Promise<CloseResult> => {
    await forwarder.stop(timeoutMs);
    const result = forwarder.closeResult(await queue.close());
    await deadLetters?.close();
    queueObserver?.close();
    await sink.close?.();
    await agent.close();
    stopDebug?.();
    await metrics?.close();
    return result;
  };

  const middleware = createMiddleware(target, o);
  const close = (options?: { timeoutMs?: number }): Promise<CloseResult> => {
    const timeoutMs = options?.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || timeoutMs > MAX_CLOSE_TIMEOUT_MS) {
      return Promise.reject(new OptionError("timeoutMs", `close({ timeoutMs }) takes milliseconds from 0 to ${MAX_CLOSE_TIMEOUT_MS}`));
    }
    closed = true;
    removeSignalHandlers();
    closing ??= shutDown(timeoutMs);
    return closing;
  };
  const removeSignalHandlers =
    o.shutdownSignals.length === 0
      ? () => {}
      : installShutdownSignals(o.shutdownSignals, () => close({ timeoutMs: o.shutdownTimeoutMs }), o.logger, o.shutdownTimeoutMs + SIGNAL_GRACE_MS);
  return Object.assign(middleware, {
    put: (event: EventInput | object | string) => target.putWithMeta(event, NO_META),
    flush: () => forwarder.flush(),
    close,
    // filtered and beforeSendErrors are there when the option is.
    stats: o.beforeSend === undefined ? () => forwarder.stats() : () => ({ ...forwarder.stats(), ...hookCounts }),
    contextName: o.name,
  }) as unknown as EventsForward;
}

/**
 * How put() turns an event into what the queue holds. Datasette rows (the default serializer of
 * the Datasette and embedded stores) leave their text to the batch when they can; any other
 * serializer runs at once.
 */
function queuedEventMaker(o: ResolvedOptions): (event: unknown, meta: EventMeta) => QueuedEvent {
  if (o.serializer === undefined && o.collector === undefined) {
    const rows = new DatasetteRows(o.instance);
    return (event, meta) => {
      try {
        return rows.queued(event, meta);
      } catch (error) {
        throw asEventError(error);
      }
    };
  }
  const serialize = o.serializer ?? defaultSerializer(o);
  return (event, meta) => {
    let json: string;
    try {
      json = serialize(event, meta);
    } catch (error) {
      throw asEventError(error);
    }
    if (typeof json !== "string") throw new EventError(`the serializer returned ${describe(json)}, not a string`);
    return { json, bytes: Buffer.byteLength(json) };
  };
}

/** Whatever reading or serializing an event throws (a getter, a toJSON, a serializer's bug) becomes an EventError. */
function asEventError(error: unknown): EventError {
  if (error instanceof EventError) return error;
  return new EventError(`the event cannot be serialized: ${(error as Error)?.message ?? describe(error)}`, { cause: error });
}
