import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventsForward, OptionError, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { loadStatsd } from "../../src/observe/metrics.js";
import { startStatsdReceiver, type StatsdReceiver } from "../helpers/statsd-receiver.js";
import { waitFor } from "../helpers/wait.js";

const t = useDatasette();
let statsd: StatsdReceiver;
const open: EventsForward[] = [];

beforeAll(async () => {
  statsd = await startStatsdReceiver();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((events) => events.close({ timeoutMs: 500 })));
  statsd.lines.length = 0;
});
afterAll(async () => {
  await statsd?.close();
});

function forwarder(namespace: string, options: EventsForwardOptions): EventsForward {
  const events = eventsForward({
    ...FAST,
    logger: false,
    metrics: { namespace, endpoint: statsd.endpoint },
    ...options,
  });
  open.push(events);
  return events;
}

describe("statsd metrics (metrics.namespace, metrics.endpoint)", () => {
  it("counts the events sent and times each POST", async () => {
    const events = forwarder("app.ok", { apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken, batchLimit: 3 });
    for (let n = 0; n < 7; n++) events.put({ event: "e", properties: { n } });
    await events.flush();
    await waitFor(() => statsd.count("app.ok.sent") === 7, { what: "7 events counted as sent" });
    expect(statsd.timings("app.ok.post")).toHaveLength(3);
    expect(statsd.timings("app.ok.post").every((ms) => ms >= 0 && ms < 30_000)).toBe(true);
    expect(statsd.count("app.ok.error.http") + statsd.count("app.ok.error.io") + statsd.count("app.ok.dropped")).toBe(
      0,
    );
  });

  it("counts only its own forwarder's events when two share the process (the channels are shared)", async () => {
    const one = forwarder("app.one", { apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken });
    const two = forwarder("app.two", { apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken });
    for (let n = 0; n < 2; n++) one.put({ event: "e" });
    for (let n = 0; n < 3; n++) two.put({ event: "e" });
    await Promise.all([one.flush(), two.flush()]);
    await waitFor(() => statsd.count("app.one.sent") + statsd.count("app.two.sent") === 5, {
      what: "5 events counted",
    });
    expect([statsd.count("app.one.sent"), statsd.count("app.two.sent")]).toEqual([2, 3]);
  });

  it("counts an HTTP error and the events it dropped", async () => {
    // A table without the row's columns: Datasette refuses the row (400). (A refused token holds instead.)
    await t.ds.postJson(`/${t.ds.database}/-/create`, {
      table: "narrow_events",
      columns: [{ name: "id", type: "text" }],
      pk: "id",
    });
    const events = forwarder("app.denied", {
      apiUrl: t.ds.createUrl,
      apiToken: t.ds.rootToken,
      table: "narrow_events",
    });
    events.put({ event: "e" });
    await events.flush();
    await waitFor(() => statsd.count("app.denied.dropped") === 1, { what: "the event counted as dropped" });
    expect(statsd.count("app.denied.error.http")).toBe(1);
    expect(statsd.count("app.denied.sent")).toBe(0);
    expect(statsd.timings("app.denied.post")).toHaveLength(1);
  });

  it("counts I/O errors when the store cannot be reached", async () => {
    const events = forwarder("app.down", {
      apiUrl: "http://127.0.0.1:9/data/-/create",
      backoffBaseMs: 5,
      backoffMaxMs: 10,
    });
    events.put({ event: "e" });
    await waitFor(() => statsd.count("app.down.error.io") >= 2, { what: "I/O errors counted" });
    expect(statsd.count("app.down.error.http")).toBe(0);
  });

  it("counts puts refused because the queue is full", async () => {
    const events = forwarder("app.full", {
      apiUrl: "http://127.0.0.1:9/data/-/create",
      maxQueueSize: 1,
      timePeriod: 3600,
    });
    events.put({ event: "e" });
    expect(() => events.put({ event: "e" })).toThrow(/queue is full/);
    await waitFor(() => statsd.count("app.full.overflowed") === 1, { what: "the refused put counted" });
  });

  it("refuses a bad endpoint or namespace at start-up", () => {
    expect(() => eventsForward({ metrics: { namespace: "app", endpoint: "statsd" } })).toThrow(OptionError);
    expect(() => eventsForward({ metrics: { namespace: "app", endpoint: "statsd:99999" } })).toThrow(
      /option metrics\.endpoint: must be host:port/,
    );
    expect(() => eventsForward({ metrics: { namespace: "a..b", endpoint: "127.0.0.1:8125" } })).toThrow(
      /option metrics\.namespace/,
    );
  });
});

describe("hot-shots is an optional peer dependency", () => {
  it("missing, `metrics` fails at start-up naming the option and the package to install", () => {
    const missing = (id: string): never => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
    };
    let error: unknown;
    try {
      loadStatsd(missing);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe("metrics");
    expect((error as Error).message).toMatch(
      /option metrics: needs the optional package hot-shots, which is not installed: npm install hot-shots/,
    );
  });
});
