import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { recordOpenTelemetryMetrics } from "../../src/diagnostics.js";
import { EventQueueFullError } from "../../src/index.js";
import { startForwarder, startStore } from "../helpers/lifecycle.js";
import { unreachableUrl } from "../helpers/test-store.js";

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A real SDK MeterProvider whose metrics land in memory; read() collects them now. */
function inMemoryMeter() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  stops.push(() => provider.shutdown());
  const read = async (name: string): Promise<DataPoint<unknown>[]> => {
    exporter.reset();
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    return metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
  };
  return { meter: provider.getMeter("events-forward-test"), read };
}

const byError = (points: DataPoint<unknown>[]) =>
  Object.fromEntries(points.map((p) => [String(p.attributes["error.type"] ?? "ok"), p.value]));

describe("recordOpenTelemetryMetrics", () => {
  it("counts events exported (sent, and dropped with error.type), retries, and times every request", async () => {
    const store = await startStore((request, index) =>
      index === 0
        ? { status: 500 }
        : request.rows.some((row) => row.event === "poison")
          ? { status: 409, body: "{}" }
          : { accept: true },
    );
    const { meter, read } = inMemoryMeter();
    const events = startForwarder(store.url(), { batchLimit: 2 });
    stops.push(recordOpenTelemetryMetrics(meter, { forwarder: events }));
    events.put({ event: "a" });
    events.put({ event: "b" });
    await events.flush();
    events.put({ event: "poison" });
    await events.flush();

    expect(byError(await read("events_forward.exporter.event.exported"))).toEqual({ ok: 2, "409": 1 });
    const retried = await read("events_forward.exporter.request.retried");
    expect(retried.map((p) => [p.value, p.attributes["error.type"]])).toEqual([[1, "500"]]);
    const durations = await read("events_forward.exporter.request.duration");
    const counts = Object.fromEntries(
      durations.map((p) => [String(p.attributes["error.type"] ?? "ok"), (p.value as Histogram).count]),
    );
    expect(counts).toEqual({ ok: 1, "500": 1, "409": 1 });
    const sent = durations.find((p) => p.attributes["error.type"] === undefined)!;
    expect((sent.value as Histogram).sum).toBeGreaterThan(0);
    expect((sent.value as Histogram).sum).toBeLessThan(10); // seconds, not milliseconds
    expect(sent.attributes).toEqual({ "otel.component.type": "events_forward", "otel.component.name": "events" });
    expect((await read("events_forward.processor.event.queue.size"))[0]!.value).toBe(0);
  });

  it("counts puts refused for a full queue as queue_full, and reports the queue's size", async () => {
    const { meter, read } = inMemoryMeter();
    const events = startForwarder(await unreachableUrl(), { maxQueueSize: 2, timePeriod: 3600 });
    stops.push(recordOpenTelemetryMetrics(meter, { forwarder: events }));
    events.put({ event: "a" });
    events.put({ event: "b" });
    expect(() => events.put({ event: "c" })).toThrow(EventQueueFullError);
    expect(byError(await read("events_forward.processor.event.refused"))).toEqual({ queue_full: 1 });
    expect((await read("events_forward.processor.event.queue.size"))[0]!.value).toBe(2);
  });

  it("stops recording once stopped", async () => {
    const store = await startStore();
    const { meter, read } = inMemoryMeter();
    const events = startForwarder(store.url());
    const stop = recordOpenTelemetryMetrics(meter);
    events.put({ event: "a" });
    await events.flush();
    stop();
    events.put({ event: "b" });
    await events.flush();
    expect(byError(await read("events_forward.exporter.event.exported"))).toEqual({ ok: 1 });
  });
});
