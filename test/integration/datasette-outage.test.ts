import { describe, expect, it } from "vitest";
import { EventQueueFullError, eventsForward } from "../../src/index.js";
import { numbers, range } from "../helpers/datasette.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { waitFor, withDeadline } from "../helpers/wait.js";

const t = useDatasette();

describe("Datasette stopped and started again in mid-run", () => {
  it("loses nothing within the queue bound: every event accepted while it was down arrives exactly once", async () => {
    const maxQueueSize = 30;
    const logger = recordingLogger();
    const events = eventsForward({
      ...FAST,
      apiUrl: t.ds.createUrl,
      apiToken: t.ds.rootToken,
      table: "outage_events",
      instance: "test-3",
      batchLimit: 5,
      maxAttempts: 2,
      maxQueueSize,
      logger,
    });
    try {
      let n = 0;
      for (; n < 5; n++) events.put({ event: "tick", properties: { n } });
      await events.flush();
      expect(numbers(await t.ds.rows("outage_events"))).toEqual(range(5));

      await t.ds.stop();
      for (const end = n + 10; n < end; n++) events.put({ event: "tick", properties: { n } });
      // Several refused connections: more than maxAttempts, yet an unreachable store drops nothing.
      await waitFor(() => events.stats().failedRequests >= 4, {
        what: "the forwarder to retry against the stopped Datasette",
      });
      expect(events.stats()).toMatchObject({ sent: 5, dropped: 0 });

      // Fill the queue to its bound; the next put is refused loudly, not lost quietly.
      while (events.stats().queued < maxQueueSize) events.put({ event: "tick", properties: { n: n++ } });
      expect(() => events.put({ event: "tick", properties: { n: -1 } })).toThrow(EventQueueFullError);
      expect(events.stats()).toMatchObject({ queued: maxQueueSize, overflowed: 1, dropped: 0 });

      await t.ds.serve();
      await withDeadline(events.flush(), 20_000, "the queue to drain after Datasette came back");

      const rows = await t.ds.rows("outage_events");
      expect(numbers(rows)).toEqual(range(n));
      expect(n).toBe(5 + maxQueueSize);
      expect(new Set(rows.map((row) => row.id)).size).toBe(n);
      expect(events.stats()).toMatchObject({ sent: n, dropped: 0, queued: 0 });
      expect(logger.messages.some((m) => m.startsWith("warn:") && /ECONNREFUSED/.test(m))).toBe(true);
      expect(logger.messages.some((m) => m.startsWith("warn:") && /accepts events again/.test(m))).toBe(true);
    } finally {
      await events.close({ timeoutMs: 1_000 });
    }
  });
});
