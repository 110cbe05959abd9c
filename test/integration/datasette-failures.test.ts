import { describe, expect, it } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { numbers, range } from "../helpers/datasette.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { randomBytes } from "node:crypto";
import { DatasetteServer } from "../helpers/datasette.js";
import { TestStore } from "../helpers/test-store.js";
import { waitFor } from "../helpers/wait.js";
import { ROW_COLUMNS } from "../../src/row/event-input.js";

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

describe("a store that refuses the sender holds the events until it is put right", () => {
  it("a token without the create-table permission on a /-/create URL: held, one warning naming the permission, nothing dropped", async () => {
    const token = await t.ds.createToken("root", { all: ["insert-row"] });
    const logger = recordingLogger();
    const events = forwarder({ apiUrl: t.ds.createUrl, apiToken: token, table: "forbidden_events", logger });
    for (const n of range(4)) events.put({ event: "tick", properties: { n } });
    await waitFor(() => events.stats().failedRequests >= 3, { what: "three refused requests" });
    expect(events.stats()).toMatchObject({ holding: "HTTP 403", dropped: 0, queued: 4, sent: 0 });
    const warnings = logger.messages.filter((m) => m.startsWith("warn:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/HTTP 403.*Permission denied.*create-table.*holding 4 event\(s\)/);
    expect(logger.messages.filter((m) => m.startsWith("error:"))).toEqual([]);
    expect(await t.ds.tableExists("forbidden_events")).toBe(false);
    for (const text of logger.messages) expect(text).not.toContain(token);
  });

  it("a token signed with another secret (401) until Datasette is restarted with that secret: every event once", async () => {
    const ds = await DatasetteServer.start();
    onCleanup(() => ds.dispose());
    const otherSecret = randomBytes(16).toString("hex");
    const token = await ds.createToken("root", {}, otherSecret);
    const logger = recordingLogger();
    const events = forwarder({
      apiUrl: ds.createUrl,
      apiToken: token,
      table: "held_events",
      maxAttempts: 1,
      logger,
      backoffBaseMs: 50,
      backoffMaxMs: 200,
    });
    for (const n of range(300)) events.put({ event: "tick", properties: { n } });
    await waitFor(() => events.stats().failedRequests >= 3, { what: "three refused requests" });
    expect(events.stats()).toMatchObject({ holding: "HTTP 401", dropped: 0, sent: 0 });
    expect(
      logger.messages.filter((m) => /HTTP 401.*signed with another secret.*holding 300 event/.test(m)),
    ).toHaveLength(1);

    await ds.restartWithSecret(otherSecret);
    await events.flush();
    const rows = await ds.rows("held_events");
    expect(numbers(rows)).toEqual(range(300));
    expect(new Set(rows.map((row) => row.id)).size).toBe(300);
    expect(events.stats()).toMatchObject({ sent: 300, dropped: 0 });
    expect(events.stats().holding).toBeUndefined();
    expect(logger.messages.filter((m) => m.includes("accepts events again"))).toHaveLength(1);
    for (const text of logger.messages) expect(text).not.toContain(token);
  });

  it("an /-/insert URL before its table exists (404), then after /-/create makes it: every event once", async () => {
    const logger = recordingLogger();
    const events = forwarder({
      apiUrl: t.ds.insertUrl("later_table"),
      apiToken: t.ds.rootToken,
      maxAttempts: 1,
      logger,
      backoffBaseMs: 20,
      backoffMaxMs: 100,
    });
    for (const n of range(250)) events.put({ event: "tick", properties: { n } });
    await waitFor(() => events.stats().failedRequests >= 3, { what: "three answers 404" });
    expect(events.stats()).toMatchObject({ holding: "HTTP 404", dropped: 0, sent: 0 });
    expect(logger.messages.filter((m) => /HTTP 404.*does not exist yet.*holding 250 event/.test(m))).toHaveLength(1);

    await t.ds.postJson(`/${t.ds.database}/-/create`, {
      table: "later_table",
      columns: ROW_COLUMNS.map((name) => ({ name, type: "text" })),
      pk: "id",
    });
    await events.flush();
    const rows = await t.ds.rows("later_table");
    expect(numbers(rows)).toEqual(range(250));
    expect(new Set(rows.map((row) => row.id)).size).toBe(250);
    expect(events.stats()).toMatchObject({ sent: 250, dropped: 0 });
  });
});

describe("a store down behind a proxy", () => {
  it("holds through the proxy's 502s, then 504s: every event once, dropped 0", async () => {
    const proxy = new TestStore(t.ds.url);
    await proxy.start();
    onCleanup(() => proxy.stop());
    let down = true;
    const logger = recordingLogger();
    proxy.behave = (_, i) =>
      down ? { status: i < 6 ? 502 : 504, body: "<html>bad gateway</html>" } : { accept: true };
    const events = forwarder({
      apiUrl: proxy.url(`/${t.ds.database}/-/create`),
      apiToken: t.ds.rootToken,
      table: "proxied_events",
      logger,
      batchLimit: 50,
      maxAttempts: 2,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
    });
    for (const n of range(400)) events.put({ event: "tick", properties: { n } });
    await waitFor(() => proxy.requests.filter((r) => r.status === 504).length >= 6, { what: "the proxy's 504s" });
    expect(events.stats()).toMatchObject({ holding: "HTTP 504", dropped: 0 });
    down = false;
    await events.flush();
    const rows = await t.ds.rows("proxied_events");
    expect(numbers(rows)).toEqual(range(400));
    expect(new Set(rows.map((row) => row.id)).size).toBe(400);
    expect(events.stats()).toMatchObject({ sent: 400, dropped: 0 });
    // One episode, one warning, whatever the proxy answered meanwhile; one line at the end.
    expect(logger.messages.filter((m) => m.includes("holding"))).toEqual([
      expect.stringMatching(/^warn: .*HTTP 502.*holding 400 event\(s\)/),
    ]);
    expect(logger.messages.filter((m) => m.includes("accepts events again"))).toHaveLength(1);
  });
});
