import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { numbers, range } from "../helpers/datasette.js";
import { useDatasette } from "../helpers/servers.js";
import { FAST } from "../helpers/fast-options.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { EIGHT_COLUMNS, EIGHT_TEXT_COLUMNS, SIGNUP, signupRow } from "../helpers/row-format.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { waitFor } from "../helpers/wait.js";

const t = useDatasette();

function forwarder(options: EventsForwardOptions): EventsForward {
  const events = eventsForward({ ...FAST, instance: "test-1", ...options });
  onCleanup(() => events.close({ timeoutMs: 1_000 }));
  return events;
}

describe("a /-/create URL", () => {
  it("creates the table with exactly the eight columns, id the primary key, and writes the row as put", async () => {
    const logger = recordingLogger();
    const events = forwarder({ apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken, table: "created_events", logger });
    expect(await t.ds.tableExists("created_events")).toBe(false);

    events.put(SIGNUP);
    await events.flush();

    expect(await t.ds.columns("created_events")).toEqual(EIGHT_TEXT_COLUMNS);
    const rows = await t.ds.rows("created_events");
    expect(rows).toEqual([signupRow("test-1")]);
    expect(events.stats()).toMatchObject({ sent: 1, dropped: 0, queued: 0, failedRequests: 0 });
    expect(logger.messages).toEqual([]);
  });

  it("delivers every event exactly once across many batches, also when puts race the flushes", async () => {
    const events = forwarder({
      apiUrl: t.ds.createUrl,
      apiToken: t.ds.rootToken,
      table: "many_events",
      batchLimit: 20,
      logger: false,
    });
    const flushes: Promise<void>[] = [];
    for (const n of range(250)) {
      events.put({ event: "tick", properties: { n } });
      if (n % 60 === 59) flushes.push(events.flush());
    }
    flushes.push(events.flush());
    await Promise.all(flushes);

    const rows = await t.ds.rows("many_events");
    expect(numbers(rows)).toEqual(range(250));
    expect(new Set(rows.map((row) => row.id)).size).toBe(250);
    const stats = events.stats();
    expect(stats).toMatchObject({ sent: 250, dropped: 0, queued: 0, failedRequests: 0 });
    expect(stats.requests).toBeGreaterThanOrEqual(250 / 20);
  });
});

describe("a /<table>/-/insert URL", () => {
  it("inserts into an existing table with a token allowed nothing but insert-row on that table", async () => {
    await t.ds.postJson(`/${t.ds.database}/-/create`, {
      table: "existing_events",
      pk: "id",
      columns: EIGHT_COLUMNS.map((name) => ({ name, type: "text" })),
    });
    const token = await t.ds.createToken("root", { resource: [[t.ds.database, "existing_events", "insert-row"]] });
    const logger = recordingLogger();
    const events = forwarder({ apiUrl: t.ds.insertUrl("existing_events"), apiToken: token, batchLimit: 7, logger });

    for (const n of range(30)) events.put({ event: "tick", actorId: n, properties: { n } });
    await events.flush();

    const rows = await t.ds.rows("existing_events");
    expect(numbers(rows)).toEqual(range(30));
    expect(new Set(rows.map((row) => row.id)).size).toBe(30);
    expect(
      rows.every((row) => row.actor_id === String((JSON.parse(row.properties as string) as { n: number }).n)),
    ).toBe(true);
    expect((await t.ds.columns("existing_events")).map((column) => column.name)).toEqual(EIGHT_COLUMNS);
    expect(events.stats()).toMatchObject({ sent: 30, dropped: 0, failedRequests: 0 });
    expect(logger.messages).toEqual([]);
  });
});

describe("an Express app", () => {
  it("writes the handler's event and the request event, tied by one request id", async () => {
    const events = forwarder({ apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken, table: "app_events", logger: false });
    const app = express();
    app.use(events);
    app.post("/signup/:plan", (req, res) => {
      req.events.put({ event: "signup", actorId: "u7", properties: { plan: req.params.plan } });
      res.sendStatus(201);
    });

    await request(app).post("/signup/pro?ref=mail").set("X-Request-Id", "req-abc-123").expect(201);
    // The request event is put when the response finishes, which can be just after the client has it.
    await waitFor(() => events.stats().sent + events.stats().queued >= 2, { what: "the request event" });
    await events.flush();

    const rows = await t.ds.rows("app_events");
    const byEvent = Object.fromEntries(
      rows.map((row) => [row.event, { ...row, properties: JSON.parse(row.properties as string) }]),
    );
    expect(Object.keys(byEvent).sort()).toEqual(["request", "signup"]);
    expect(byEvent.signup).toMatchObject({ actor_id: "u7", properties: { plan: "pro", request_id: "req-abc-123" } });
    expect(byEvent.request?.properties).toMatchObject({
      method: "POST",
      path: "/signup/pro",
      status: 201,
      request_id: "req-abc-123",
    });
  });
});
