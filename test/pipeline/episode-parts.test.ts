// The forwarder's small state keepers, each on its own: its stop signal, and the episodes it
// reports once each (a full queue, a backlog, turns that fail in a row).
import { afterEach, describe, expect, it, vi } from "vitest";
import { BacklogReporter, capacityPerSecond, queueBound } from "../../src/pipeline/backlog.js";
import { OverflowReporter } from "../../src/pipeline/overflow.js";
import { LEASE_AFTER_FAILED_READS, ReadFailures } from "../../src/pipeline/read-failures.js";
import { StopSignal } from "../../src/pipeline/stop-signal.js";
import { recordingLogger } from "../helpers/recording-logger.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("StopSignal", () => {
  it("calls each listener once, on the first abort(), and none removed or added after it", () => {
    const stop = new StopSignal();
    const heard: string[] = [];
    const removed = () => heard.push("removed");
    stop.addEventListener("abort", () => heard.push("a"));
    stop.addEventListener("abort", removed);
    stop.addEventListener("abort", () => heard.push("b"));
    stop.removeEventListener("abort", removed);
    expect(stop.aborted).toBe(false);

    stop.abort();
    expect(stop.aborted).toBe(true);
    expect(heard).toEqual(["a", "b"]);

    stop.addEventListener("abort", () => heard.push("late"));
    stop.abort();
    expect(heard).toEqual(["a", "b"]);
  });
});

describe("OverflowReporter", () => {
  it("logs the first refused event of an episode, counts them all, and logs the episode's end with its count and length", () => {
    const logger = recordingLogger();
    const overflow = new OverflowReporter(logger, "the store");
    const now = vi.spyOn(Date, "now").mockReturnValue(1_000_000);
    overflow.accepted(); // no episode: nothing to say
    expect(overflow.inEpisode).toBe(false);
    expect(logger.messages).toEqual([]);

    overflow.refused("queue full (3 events)");
    overflow.refused("queue full (3 events)");
    expect(overflow.inEpisode).toBe(true);
    expect(logger.messages).toEqual([
      "error: queue full (3 events): refusing events until the store catches up (reported once until the queue accepts events again)",
    ]);

    now.mockReturnValue(1_002_500);
    overflow.accepted();
    overflow.accepted();
    expect(overflow.inEpisode).toBe(false);
    expect(logger.messages.slice(1)).toEqual(["warn: queue accepts events again: 2 event(s) were refused over 2.5 s"]);

    // A second episode, with its own end condition, is reported again; the total runs on.
    overflow.refused("spool full", "the spool has room");
    expect(overflow.total).toBe(3);
    expect(logger.messages.at(-1)).toBe(
      "error: spool full: refusing events until the spool has room (reported once until the queue accepts events again)",
    );
  });
});

describe("ReadFailures", () => {
  it("pushes each failed turn back further, logs the first of an episode and its end, and resets", () => {
    const logger = recordingLogger();
    const failures = new ReadFailures(logger, 100, 1_000);
    expect(failures).toMatchObject({ count: 0, reason: "" });
    failures.succeeded(); // nothing failed: nothing to say
    expect(logger.messages).toEqual([]);

    const first = failures.failed("SQLITE_IOERR", true);
    expect(first.waitMs).toBeGreaterThanOrEqual(50);
    expect(first.waitMs).toBeLessThanOrEqual(100);
    failures.failed("SQLITE_IOERR", true);
    const third = failures.failed("SQLITE_CORRUPT", true);
    expect(third.waitMs).toBeGreaterThanOrEqual(200);
    expect(third.waitMs).toBeLessThanOrEqual(400);
    expect(failures).toMatchObject({ count: 3, reason: "SQLITE_CORRUPT" });
    expect(logger.messages).toEqual([
      "error: the forwarder's turn failed: SQLITE_IOERR; trying again with backoff (reported once until it works again)",
    ]);

    failures.succeeded();
    expect(failures).toMatchObject({ count: 0, reason: "" });
    expect(logger.messages.slice(1)).toEqual(["warn: the forwarder works again after 3 failed turn(s)"]);
    failures.succeeded();
    expect(logger.messages).toHaveLength(2);
  });

  it(`gives the lease up at the ${LEASE_AFTER_FAILED_READS}th failed read in a row, not for failed batch ends, and counts afresh after a success`, () => {
    const failures = new ReadFailures(recordingLogger(), 1, 10);
    const giveUps = () => failures.failed("read", true).giveUpLease;
    expect(failures.failed("batch end", false).giveUpLease).toBe(false);
    expect([giveUps(), giveUps(), giveUps(), giveUps()]).toEqual([false, false, false, false]);
    expect(failures.failed("batch end", false).giveUpLease).toBe(false);
    expect(giveUps()).toBe(true);
    expect(giveUps()).toBe(false);

    failures.succeeded();
    expect([giveUps(), giveUps(), giveUps(), giveUps(), giveUps()]).toEqual([false, false, false, false, true]);
  });

  it("a logger that throws does not make a failure or a success throw", () => {
    const throwing = {
      warn: () => {
        throw new Error("logger down");
      },
      error: () => {
        throw new Error("logger down");
      },
    };
    const failures = new ReadFailures(throwing, 1, 10);
    expect(() => failures.failed("read", true)).not.toThrow();
    expect(() => failures.succeeded()).not.toThrow();
    expect(failures.count).toBe(0);
  });
});

describe("the queue's bound and capacity", () => {
  it("a spool is bounded by its maxEvents only; the memory queue by maxQueueSize and maxQueueBytes, each unbounded when unset", () => {
    expect(queueBound({ maxQueueSize: 5, maxQueueBytes: 100, spool: { maxEvents: 7 } })).toEqual({
      events: 7,
      bytes: Infinity,
    });
    expect(queueBound({ maxQueueSize: 5, maxQueueBytes: 100 })).toEqual({ events: 5, bytes: 100 });
    expect(queueBound({})).toEqual({ events: Infinity, bytes: Infinity });
  });

  it("capacity is batchLimit × maxRate / timePeriod events a second, unbounded with timePeriod 0", () => {
    expect(capacityPerSecond(10, 4, 2)).toBe(20);
    expect(capacityPerSecond(10, 4, 0)).toBe(Infinity);
  });
});

describe("BacklogReporter", () => {
  it("warns once past half of the events bound, with the bound and the capacity, and once more under a quarter", () => {
    const logger = recordingLogger();
    const levels: unknown[] = [];
    const backlog = new BacklogReporter(
      logger,
      "the store",
      { events: 20, bytes: Infinity },
      () => 10 / 3,
      (...level) => levels.push(level),
    );
    backlog.observe(10, 1_000); // half is not past half
    expect(logger.messages).toEqual([]);
    backlog.observe(11, 1_000);
    backlog.observe(19, 1_000);
    expect(logger.messages).toEqual([
      "warn: the store is not keeping up: 11 events (1000 bytes) wait, over half of the queue's bound (20 events); " +
        "the forwarder carries at most 3.33 events/s (batchLimit × maxRate / timePeriod): " +
        "raise batchLimit or maxRate, or lower timePeriod, if the store can take more (reported once until the queue is back under a quarter)",
    ]);
    backlog.observe(5, 0); // a quarter is not under a quarter
    expect(logger.messages).toHaveLength(1);
    backlog.observe(4, 0);
    backlog.observe(3, 0);
    expect(logger.messages.slice(1)).toEqual([
      "warn: the store caught up: 4 events wait, under a quarter of the queue's bound",
    ]);
    expect(levels).toEqual([
      ["high", 11, 20],
      ["normal", 4, 20],
    ]);
  });

  it("counts the bytes bound too, in both directions, and names both bounds; no rate limit is said in words", () => {
    const logger = recordingLogger();
    const backlog = new BacklogReporter(logger, "the store", { events: 100, bytes: 1_000 }, () => Infinity);
    backlog.observe(1, 500);
    expect(logger.messages).toEqual([]);
    backlog.observe(1, 501);
    expect(logger.messages[0]).toContain("(100 events or 1000 bytes)");
    expect(logger.messages[0]).toContain("what the store takes (no rate limit: timePeriod 0)");
    backlog.observe(1, 250); // the bytes at a quarter keep the episode
    expect(logger.messages).toHaveLength(1);
    backlog.observe(25, 249); // the events at a quarter too
    expect(logger.messages).toHaveLength(1);
    backlog.observe(24, 249);
    expect(logger.messages[1]).toContain("caught up: 24 events wait");
  });
});
