import { listen } from "./listen.js";
import type { ForwarderIdentity } from "./channels.js";

/**
 * The part of @opentelemetry/api's `Meter` the helper uses, written out so that the package's
 * declarations need no OpenTelemetry types (an optional peer): a real `Meter` is one.
 */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: Attributes): void };
  createHistogram(name: string, options?: InstrumentOptions): { record(value: number, attributes?: Attributes): void };
  createObservableUpDownCounter(name: string, options?: InstrumentOptions): ObservableLike;
}

type Attributes = Record<string, string | number | boolean | undefined>;
interface InstrumentOptions {
  unit?: string;
  description?: string;
}
type ObserveCallback = (result: { observe(value: number, attributes?: Attributes): void }) => void;
interface ObservableLike {
  addCallback(callback: ObserveCallback): void;
  removeCallback(callback: ObserveCallback): void;
}

/** What the helper can read for the gauges: an eventsForward() handle (optional). */
interface StatsSource {
  stats(): { queued: number };
  readonly contextName: string;
}

export interface OpenTelemetryMetricsOptions {
  /** Also report this forwarder's queue as `events_forward.processor.event.queue.size`. */
  forwarder?: StatsSource;
}

/**
 * Records what every forwarder in the process does as OpenTelemetry metrics on `meter` (from
 * @opentelemetry/api, an optional peer dependency: only its types are used here), named after the
 * semantic conventions for SDK self-observability (`otel.sdk.exporter.span.exported` becomes
 * `events_forward.exporter.event.exported`): see docs/operations.md. A subscriber of the
 * diagnostics channels; returns the function that stops it.
 */
export function recordOpenTelemetryMetrics(meter: MeterLike, options: OpenTelemetryMetricsOptions = {}): () => void {
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(`events_forward.${name}`, { unit, description });
  const exported = counter(
    "exporter.event.exported",
    "{event}",
    "Events whose delivery finished: sent, or given up on (error.type set)",
  );
  const retried = counter(
    "exporter.request.retried",
    "{request}",
    "Failed requests that will be repeated after a pause",
  );
  const refused = counter(
    "processor.event.refused",
    "{event}",
    "put() calls refused because the queue was full (error.type queue_full)",
  );
  const duration = meter.createHistogram("events_forward.exporter.request.duration", {
    unit: "s",
    description: "Duration of each request to the store (each attempt of a batch)",
  });
  const component = (forwarder: ForwarderIdentity): Attributes => ({
    "otel.component.type": "events_forward",
    "otel.component.name": forwarder.name,
  });
  const stop = listen({
    request(context) {
      const attributes = component(context.forwarder);
      if (context.outcome === "sent") {
        exported.add(context.events, attributes);
      } else {
        attributes["error.type"] = errorType(context.status);
        if (context.status !== undefined) attributes["http.response.status_code"] = context.status;
      }
      duration.record(context.durationMs! / 1000, attributes);
    },
    dropped: (message) =>
      exported.add(message.events, { ...component(message.forwarder), "error.type": errorType(message.status) }),
    retrying: (message) => retried.add(1, { ...component(message.forwarder), "error.type": errorType(message.status) }),
    overflowed: (message) => refused.add(1, { ...component(message.forwarder), "error.type": "queue_full" }),
  });
  const source = options.forwarder;
  if (source === undefined) return stop;
  const queueSize = meter.createObservableUpDownCounter("events_forward.processor.event.queue.size", {
    unit: "{event}",
    description: "Events accepted and not yet delivered or dropped",
  });
  const observe = (result: { observe(value: number, attributes?: Attributes): void }) =>
    result.observe(source.stats().queued, {
      "otel.component.type": "events_forward",
      "otel.component.name": source.contextName,
    });
  queueSize.addCallback(observe);
  return () => {
    stop();
    queueSize.removeCallback(observe);
  };
}

/** error.type as the conventions want it: the HTTP status when there was one, else _OTHER. */
function errorType(status: number | undefined): string {
  return status === undefined ? "_OTHER" : String(status);
}
