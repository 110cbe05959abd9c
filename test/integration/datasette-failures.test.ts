import { describe, expect, it } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { numbers, range } from "../helpers/datasette.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { recordingLogger } from "../helpers/recording-logger.js";

const t = useDatasette();

function forwarder(options: EventsForwardOptions): EventsForward {
  const events = eventsForward({ ...FAST, instance: "test-2", ...options });
  onCleanup(() => events.close({ timeoutMs: 1_000 }));
  return events;
}

async function proxy(loseResponses: number): Promise<LossyProxy> {
  const lossy = await startLossyProxy(t.ds.url, { loseResponses });
  onCleanup(() => lossy.close());
  return lossy;
}

describe("a retried batch", () => {
  it("is written once when Datasette stored it but the answer was lost on the way back", async () => {
    const lossy = await proxy(2);
    const logger = recordingLogger();
    const events = forwarder({
      apiUrl: `${lossy.url}/${t.ds.database}/-/create`,
      apiToken: t.ds.rootToken,
      table: "retried_events",
      batchLimit: 5,
      maxAttempts: 5,
      logger,
    });

    for (const n of range(12)) events.put({ event: "tick", properties: { n } });
    await events.flush();

    // Datasette answered 201 to every request, twice without the forwarder hearing it, so the
    // first batch went three times with the very same rows.
    expect(lossy.requests.map((r) => [r.status, r.lost])).toEqual([
      [201, true],
      [201, true],
      [201, false],
      [201, false],
      [201, false],
    ]);
    expect(lossy.requests[1]!.body).toBe(lossy.requests[0]!.body);
    expect(lossy.requests[2]!.body).toBe(lossy.requests[0]!.body);

    const rows = await t.ds.rows("retried_events");
    expect(numbers(rows)).toEqual(range(12));
    expect(new Set(rows.map((row) => row.id)).size).toBe(12);
    expect(events.stats()).toMatchObject({ sent: 12, retried: 2, dropped: 0, failedRequests: 2, requests: 5 });
    expect(logger.messages.some((m) => m.startsWith("warn:") && m.includes("retrying"))).toBe(true);
  });
});

describe("a token without the create-table permission on a /-/create URL", () => {
  it("drops the batch with a reason naming the missing permission, counted and reported, not lost silently", async () => {
    const token = await t.ds.createToken("root", { all: ["insert-row"] });
    const logger = recordingLogger();
    const drops: Array<{ events: string[]; reason: string }> = [];
    const events = forwarder({
      apiUrl: t.ds.createUrl,
      apiToken: token,
      table: "forbidden_events",
      logger,
      onDrop: (dropped, reason) => drops.push({ events: dropped, reason }),
    });

    for (const n of range(4)) events.put({ event: "tick", properties: { n } });
    await events.flush();

    expect(drops).toHaveLength(1);
    expect(drops[0]!.events.map((json) => JSON.parse(JSON.parse(json).properties).n)).toEqual(range(4));
    expect(drops[0]!.reason).toMatch(/403/);
    expect(drops[0]!.reason).toMatch(/Permission denied/);
    expect(drops[0]!.reason).toMatch(/create-table/);
    const errors = logger.messages.filter((m) => m.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/dropped 4 event\(s\).*403.*create-table/);
    // A permission problem does not heal by itself: one request, no retries.
    expect(events.stats()).toMatchObject({
      sent: 0,
      dropped: 4,
      queued: 0,
      retried: 0,
      requests: 1,
      failedRequests: 1,
    });
    expect(await events.close({ timeoutMs: 1_000 })).toEqual({ delivered: 0, undelivered: 4 });
    expect(await t.ds.tableExists("forbidden_events")).toBe(false);
    for (const text of [...logger.messages, drops[0]!.reason]) expect(text).not.toContain(token);
  });
});
