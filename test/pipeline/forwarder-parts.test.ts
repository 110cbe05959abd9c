// The forwarder's own decisions that the end-to-end tests pass through without pinning: a batch
// that is full goes at once (by count or by bytes) however long batchWaitMs is, the closing line
// of a spool's publisher, and a turn whose read of the queue fails (its backoff, its words, and a
// flush() that ends).
import Database from "../helpers/sqlite-file.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { datasetteRowSerializer } from "../../src/index.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { unreachableUrl } from "../helpers/test-store.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const tempDir = useTempDirs();

describe("a full batch goes at once", () => {
  it("full by count: it does not wait out batchWaitMs", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchLimit: 3, batchWaitMs: 60_000 });
    events.put({ event: "e0" });
    events.put({ event: "e1" });
    events.put({ event: "e2" });
    await waitFor(() => events.stats().sent === 3, { what: "the full batch sent without flush()" });
  });

  it("full by bytes: it does not wait out batchWaitMs either", async () => {
    const store = await startStore();
    const probe = datasetteRowSerializer("test")({ event: "e0" }, {});
    const events = startForwarder(store.url(), {
      batchLimit: 100,
      batchWaitMs: 60_000,
      maxBatchBytes: Buffer.byteLength(probe) * 2,
    });
    events.put({ event: "e0" });
    events.put({ event: "e1" });
    await waitFor(() => events.stats().sent === 2, { what: "the batch full by bytes sent without flush()" });
  });
});

describe("closing a spool's forwarder", () => {
  it("the publisher says how many events stay queued for the next start; a process that only writes says nothing", async () => {
    const url = await unreachableUrl();
    const spool = join(tempDir(), "spool.db");
    const logger = recordingLogger();
    const events = startForwarder(url, { spool: { path: spool, pollMs: 10 }, logger, maxAttempts: 1_000 });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    for (let n = 0; n < 3; n++) events.put({ event: `e${n}` });
    expect(await events.close({ timeoutMs: 100 })).toMatchObject({ delivered: 0, undelivered: 3, spooled: 3 });
    expect(logger.messages.filter((m) => /closed with/.test(m))).toEqual([
      expect.stringMatching(
        /^warn: closed with 3 events not yet delivered to .+; they stay queued for the next start$/,
      ),
    ]);

    const writerLogger = recordingLogger();
    const writer = startForwarder(url, { spool: { path: spool, pollMs: 10 }, logger: writerLogger, publisher: false });
    writer.put({ event: "e3" });
    expect(await writer.close({ timeoutMs: 100 })).toMatchObject({ delivered: 0, spooled: 4 });
    expect(writerLogger.messages).toEqual([]);
  });

  it("with nothing left, the publisher says nothing", async () => {
    const store = await startStore();
    const logger = recordingLogger();
    const events = startForwarder(store.url(), { spool: { path: join(tempDir(), "spool.db"), pollMs: 10 }, logger });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    events.put({ event: "e0" });
    await events.flush();
    expect(await events.close({ timeoutMs: 100 })).toMatchObject({ delivered: 1, undelivered: 0, spooled: 0 });
    expect(logger.messages).toEqual([]);
  });
});

describe("a turn whose read of the queue fails", () => {
  it("waits its backoff before the next, reports the read's own words, and a flush() meanwhile ends", async () => {
    const store = await startStore();
    const spool = join(tempDir(), "spool.db");
    const events = startForwarder(store.url(), {
      spool: { path: spool, pollMs: 10, leaseMs: 60_000 },
      logger: recordingLogger(),
      backoffBaseMs: 100,
      backoffMaxMs: 100,
    });
    await waitFor(() => events.stats().publisher === true, { what: "the publisher lease" });
    const other = new Database(spool);
    onCleanup(async () => other.close());
    other.exec("DROP TABLE outbox");
    events.put({ event: "waiting" });
    await waitFor(() => events.stats().failedTurns > 0, { what: "a failed turn" });
    expect(events.stats().failure).toMatch(/^reading the queue failed: no such table: outbox$/);
    // flush() stops at a batch it could not read, rather than trying again at once, forever.
    await events.flush();
    const before = events.stats().failedTurns;
    const since = Date.now();
    await waitFor(() => Date.now() - since >= 500, { what: "half a second" });
    // One turn per 100 ms backoff at most (and the lease is given up after a few): not hundreds.
    expect(events.stats().failedTurns - before).toBeLessThan(8);
  });
});
