import type { IncomingMessage, ServerResponse } from "node:http";
import type { PutTarget } from "./context.js";
import { EventError, EventTooLargeError, ForwarderClosedError } from "./errors.js";
import { describe, type EventInput, type EventMeta } from "./event.js";
import { Forwarder, type CloseResult, type ForwarderStats } from "./forwarder.js";
import { combineObservers, debugObserver, statsdObserver, type ForwarderObserver } from "./metrics.js";
import { createMiddleware } from "./middleware.js";
import { resolveOptions, type EventsForwardOptions, type ResolvedOptions } from "./options.js";
import { MemoryQueue, type EventQueue } from "./queue.js";
import { createAgent } from "./sinks/http.js";
import { createSink, defaultSerializer } from "./sinks/select.js";
import type { Sink } from "./sinks/sink.js";
import { SpoolQueue } from "./spool.js";

/** How long close() drains by default before it gives up on what is left. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

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
  stats(): ForwarderStats;
  /** The property the request context is attached as (option `name`). */
  readonly contextName: string;
}

/** Creates the middleware and its forwarder; a bad option throws an OptionError naming it. */
export function eventsForward(options: EventsForwardOptions): EventsForward {
  const o = resolveOptions(options);
  // The spool first: when it cannot open, no store file has been created on the way.
  const queue = createQueue(o);
  const agent = createAgent();
  let sink: Sink;
  try {
    sink = createSink(o, agent);
  } catch (error) {
    queue.close?.();
    void agent.close();
    throw error;
  }
  const metrics = o.metrics === undefined ? undefined : statsdObserver(o.metrics, o.logger);
  const observers = [metrics, o.logger.debug ? debugObserver(o.logger) : undefined].filter((x): x is ForwarderObserver => x !== undefined);
  const close = async () => {
    await closeBoth(sink, agent);
    await metrics?.close();
  };
  const limiter = queue instanceof SpoolQueue ? queue.limiter : undefined;
  const forwarder = new Forwarder(o, { ...sink, close }, queue, { limiter, observer: combineObservers(observers) });
  const serialize = o.serializer ?? defaultSerializer(o);
  let closed = false;

  const target: PutTarget = {
    putWithMeta(event, meta) {
      if (closed) throw new ForwarderClosedError(o.name);
      const json = serialize(event, meta);
      if (typeof json !== "string") throw new EventError(`the serializer returned ${describe(json)}, not a string`);
      const bytes = Buffer.byteLength(json);
      if (bytes > o.maxEventSize) throw new EventTooLargeError(bytes, o.maxEventSize);
      forwarder.enqueue({ json, bytes });
    },
  };

  const middleware = createMiddleware(target, o);
  return Object.assign(middleware, {
    put: (event: EventInput | object | string) => target.putWithMeta(event, NO_META),
    flush: () => forwarder.flush(),
    close: ({ timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS }: { timeoutMs?: number } = {}) => {
      closed = true;
      return forwarder.close(timeoutMs);
    },
    stats: () => forwarder.stats(),
    contextName: o.name,
  }) as unknown as EventsForward;
}

function createQueue(o: ResolvedOptions): EventQueue {
  if (o.spool === undefined) return new MemoryQueue(o.maxQueueSize);
  return new SpoolQueue(o.spool, { publisher: o.publisher, maxRate: o.maxRate, periodMs: o.timePeriod * 1000, logger: o.logger });
}

async function closeBoth(sink: Sink, agent: { close(): Promise<void> }): Promise<void> {
  await sink.close?.();
  await agent.close();
}
