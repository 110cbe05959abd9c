import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { collectorOptionsFromConfig } from "../../../src/collector.js";
import { eventsForward, OptionError, SINK_DEFAULTS, type EventsForwardOptions } from "../../../src/index.js";
import { resolveOptions } from "../../../src/config/resolve.js";
import type { ResolvedFor } from "../../../src/config/options.js";

const SECRET = "c3VwZXIgc2VjcmV0IGtleSBtYXRlcmlhbCE="; // "super secret key material!"
const collector = { hostname: "events.example.com", keyName: "Key1", keySecret: SECRET };

/** The resolved options, which must name the collector store. */
function withCollector(options: EventsForwardOptions): ResolvedFor<"collector"> {
  const o = resolveOptions(options);
  if (o.store !== "collector") throw new Error(`expected the collector store, got ${o.store}`);
  return o;
}

function optionError(options: unknown): OptionError {
  try {
    resolveOptions(options as EventsForwardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error("expected an OptionError");
}

describe("option collector", () => {
  it("builds <scheme>://<hostname>/v<version>, https and version 2 by default (as baseplate's publisher)", () => {
    const byDefault = withCollector({ collector }).collector;
    expect([byDefault.url.href, byDefault.version]).toEqual(["https://events.example.com/v2", "2"]);
    const v1 = withCollector({ collector: { ...collector, version: 1 } }).collector;
    expect([v1.url.href, v1.version]).toEqual(["https://events.example.com/v1", "1"]);
    const v2 = withCollector({
      collector: { ...collector, hostname: "127.0.0.1:8080", scheme: "http", version: 2 },
    }).collector;
    expect([v2.url.href, v2.version]).toEqual(["http://127.0.0.1:8080/v2", "2"]);
    const v2j = withCollector({ collector: { ...collector, version: "2j" } }).collector;
    expect([v2j.url.href, v2j.version]).toEqual(["https://events.example.com/v2j", "2j"]);
  });

  it("takes a full url instead, and the version from its path", () => {
    const { hostname: _, ...rest } = collector;
    const resolved = withCollector({ collector: { ...rest, url: "https://c.example.com/api/v2j" } }).collector;
    expect([resolved.url.href, resolved.version]).toEqual(["https://c.example.com/api/v2j", "2j"]);
    expect(optionError({ collector: { ...collector, url: "https://c.example.com/v1" } }).option).toBe("collector.url");
    expect(optionError({ collector: { ...rest, url: "ftp://c.example.com/v1" } }).option).toBe("collector.url");
  });

  it("uses collector defaults: batches by bytes, about 1 s to fill, no 1-per-10-s throttle, retries until the budget, backoff from 2 s", () => {
    const o = resolveOptions({ collector });
    expect(SINK_DEFAULTS.collector).toMatchObject({ batchWaitMs: 1_000, maxRate: 20, timePeriod: 1 });
    expect(o).toMatchObject({
      batchLimit: SINK_DEFAULTS.collector.batchLimit,
      batchWaitMs: 1_000,
      maxRate: 20,
      timePeriod: 1,
      maxAttempts: Number.POSITIVE_INFINITY,
      requestEvents: false,
      maxBatchBytes: 500 * 1024,
      maxEventSize: 102_400,
      maxQueueSize: 10_000,
      requestTimeoutMs: 3_000,
      retryBudgetMs: 5 * 60_000,
      backoffBaseMs: 2_000, // the publisher's RETRY_BACKOFF
    });
    // The Datasette defaults are its own: 100 rows, 20 requests a second (2,000 events/s).
    const datasette = resolveOptions({ apiUrl: "http://127.0.0.1:1/db/-/create" });
    expect(datasette).toMatchObject({
      batchLimit: 100,
      batchWaitMs: 0,
      maxRate: 20,
      timePeriod: 1,
      maxAttempts: 3,
      requestEvents: true,
      backoffBaseMs: 1_000,
    });
    expect(resolveOptions({ collector, backoffBaseMs: 50 }).backoffBaseMs).toBe(50);
  });

  it("caps batchLimit at 10,000 for Datasette only", () => {
    expect(resolveOptions({ collector, batchLimit: 50_000 }).batchLimit).toBe(50_000);
    expect(optionError({ apiUrl: "http://127.0.0.1:1/db/-/create", batchLimit: 10_001 }).option).toBe("batchLimit");
    expect(resolveOptions({ collector, maxAttempts: 4 }).maxAttempts).toBe(4);
  });

  it("needs exactly one store", () => {
    expect(optionError({ collector, apiUrl: "http://127.0.0.1:1/db/-/create" }).option).toBe("collector");
    expect(optionError({ collector, apiToken: "t" }).option).toBe("collector");
    // No store option at all is the embedded store (a local SQLite file), not an error.
    expect((resolveOptions({}) as ResolvedFor<"sqlite">).database).toBe("./events.db");
    expect(optionError({ collector, database: "events.db" }).option).toBe("database");
  });

  it("names the bad field", () => {
    const cases: [unknown, string][] = [
      ["events.example.com", "collector"],
      [{ ...collector, hostnme: "x" }, "collector.hostnme"],
      [{ keyName: "k", keySecret: SECRET }, "collector.hostname"],
      [{ ...collector, hostname: "bad host/x" }, "collector.hostname"],
      [{ ...collector, scheme: "ftp" }, "collector.scheme"],
      [{ ...collector, version: 3 }, "collector.version"],
      [{ ...collector, keyName: undefined }, "collector.keyName"],
      [{ ...collector, keyName: "a, mac=b" }, "collector.keyName"],
      [{ ...collector, keySecret: undefined }, "collector.keySecret"],
      [{ ...collector, keySecret: "not base64!!" }, "collector.keySecret"],
      [{ ...collector, keySecret: { $env: "EVENTS_FORWARD_TEST_UNSET_VARIABLE" } }, "collector.keySecret"],
      [{ ...collector, userAgent: "bad\nagent" }, "collector.userAgent"],
    ];
    for (const [value, option] of cases)
      expect(optionError({ collector: value }).option, JSON.stringify(value)).toBe(option);
  });

  it("refuses request events without a serializer that can encode them", () => {
    expect(optionError({ collector, requestEvents: true }).option).toBe("requestEvents");
    expect(resolveOptions({ collector, requestEvents: true, serializer: (e) => JSON.stringify(e) }).requestEvents).toBe(
      true,
    );
  });

  it("reads the key from the environment with { $env }, and never shows it", () => {
    const keyMaterial = Buffer.from(SECRET, "base64");
    process.env.EVENTS_FORWARD_TEST_COLLECTOR_KEY = SECRET;
    try {
      const o = withCollector({
        collector: { ...collector, keySecret: { $env: "EVENTS_FORWARD_TEST_COLLECTOR_KEY" } },
      });
      expect(o.collector.key.export().equals(keyMaterial)).toBe(true);
      const shown = inspect(o, { depth: 10 }) + JSON.stringify(o);
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain(keyMaterial.toString("hex"));
      expect(shown).not.toContain("super secret");
    } finally {
      delete process.env.EVENTS_FORWARD_TEST_COLLECTOR_KEY;
    }
    const badKey = "bm90IGJhc2U2NCBhdCBhbGw=!";
    expect(optionError({ collector: { ...collector, keySecret: badKey } }).message).not.toContain(badKey);
  });
});

describe("collectorOptionsFromConfig", () => {
  const section = {
    "collector.hostname": "some-domain.example.com",
    "collector.version": "2",
    "collector.scheme": "https",
    "key.name": "NameOfASecretKey",
    "key.secret": SECRET,
    "metrics.namespace": "a.name",
    "metrics.endpoint": "statsd:8125",
  };

  it("maps an [event-publisher:NAME] section onto option collector", () => {
    const options = collectorOptionsFromConfig(section);
    expect(options).toEqual({
      hostname: "some-domain.example.com",
      version: "2",
      scheme: "https",
      keyName: "NameOfASecretKey",
      keySecret: SECRET,
    });
    const resolved = withCollector({ collector: options }).collector;
    expect([resolved.url.href, resolved.version, resolved.keyName]).toEqual([
      "https://some-domain.example.com/v2",
      "2",
      "NameOfASecretKey",
    ]);
    const forwarder = eventsForward({
      collector: collectorOptionsFromConfig({ ...section, "collector.version": "2j" }),
      logger: false,
    });
    expect(forwarder.contextName).toBe("events");
    void forwarder.close();
  });

  it("leaves out what the section does not say, and passes { $env } secrets on", () => {
    const options = collectorOptionsFromConfig({
      "collector.hostname": "h.example.com",
      "key.name": "k",
      "key.secret": { $env: "X" },
    });
    expect(options).toEqual({ hostname: "h.example.com", keyName: "k", keySecret: { $env: "X" } });
  });

  it("without collector.version posts version 2, as baseplate's publisher (the option's default too)", () => {
    const { "collector.version": _, ...noVersion } = section;
    const resolved = withCollector({ collector: collectorOptionsFromConfig(noVersion) }).collector;
    expect([resolved.url.href, resolved.version]).toEqual(["https://some-domain.example.com/v2", "2"]);
  });

  it("is undefined for a section without a collector, and names a missing key by its INI name", () => {
    expect(collectorOptionsFromConfig({ "metrics.namespace": "x" })).toBeUndefined();
    const { "key.secret": _, ...noSecret } = section;
    expect(() => collectorOptionsFromConfig(noSecret)).toThrow(
      expect.objectContaining({ name: "OptionError", option: "key.secret" }),
    );
    const { "collector.hostname": __, ...noHost } = section;
    expect(() => collectorOptionsFromConfig(noHost)).toThrow(expect.objectContaining({ option: "collector.hostname" }));
  });

  it("lets eventsForward() validate the values, naming the option field", () => {
    expect(() =>
      resolveOptions({ collector: collectorOptionsFromConfig({ ...section, "collector.version": "7" }) }),
    ).toThrow(expect.objectContaining({ option: "collector.version" }));
  });
});
