import { describe, expect, it } from "vitest";
import { DEFAULTS, SINK_DEFAULTS } from "../../src/index.js";
import { resolveOptions } from "../../src/config/resolve.js";
import { STORE_KINDS } from "../../src/stores/table.js";

/** The least options that name each store. */
const NAMING: Record<keyof typeof STORE_KINDS, object> = {
  datasette: { apiUrl: "http://127.0.0.1:1/db/-/create" },
  collector: { collector: { hostname: "127.0.0.1:1", scheme: "http", keyName: "k", keySecret: "c2VjcmV0" } },
  sqlite: {},
};

describe("every default, in one place, always applied", () => {
  it.each(Object.keys(STORE_KINDS) as (keyof typeof STORE_KINDS)[])(
    "%s: each option left out takes the store's default, or else the general one",
    (store) => {
      const resolved = resolveOptions(NAMING[store]) as unknown as Record<string, unknown>;
      expect(resolved.store).toBe(store);
      const expected: Record<string, unknown> = { ...DEFAULTS, ...SINK_DEFAULTS[store] };
      for (const [option, value] of Object.entries(expected)) {
        // The embedded store's file is the only store-specific option here; others name no file.
        if (option === "database" && store !== "sqlite") continue;
        expect([option, resolved[option]]).toEqual([option, value]);
      }
    },
  );

  it("pins the values users rely on (README's capacity table): 100 events × 20 requests / 1 s for Datasette and the embedded store, 10,000 × 20 / 1 s by bytes for the collector", () => {
    for (const store of ["datasette", "sqlite"] as const)
      expect(resolveOptions(NAMING[store])).toMatchObject({
        batchLimit: 100,
        maxRate: 20,
        timePeriod: 1,
        maxBatchBytes: 512_000,
        maxAttempts: 3,
        requestTimeoutMs: 3_000,
        maxQueueSize: 10_000,
        shutdownTimeoutMs: 5_000,
      });
    expect(resolveOptions(NAMING.collector)).toMatchObject({
      batchLimit: 10_000,
      maxRate: 20,
      timePeriod: 1,
      batchWaitMs: 1_000,
      maxBatchBytes: 512_000,
      maxAttempts: Number.POSITIVE_INFINITY,
    });
    expect(resolveOptions({ ...NAMING.sqlite, spool: "/tmp/pinned.db" }).spool).toMatchObject({
      groupCommitMs: 5,
      maxEvents: 100_000,
      leaseMs: 5_000,
      pollMs: 250,
    });
  });

  it("the table holds each store's own defaults", () => {
    for (const [store, kind] of Object.entries(STORE_KINDS))
      expect(kind.defaults).toBe(SINK_DEFAULTS[store as keyof typeof SINK_DEFAULTS]);
  });
});
