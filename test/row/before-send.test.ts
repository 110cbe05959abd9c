import request from "supertest";
import { describe, expect, it } from "vitest";
import {
  BeforeSendError,
  EventError,
  EventTooLargeError,
  ForwarderClosedError,
  OptionError,
  eventsForward,
  type BeforeSend,
  type EventInput,
} from "../../src/index.js";
import { FRAMEWORKS } from "../helpers/apps.js";
import { startForwarder, startStore } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { waitFor } from "../helpers/wait.js";

const express5 = FRAMEWORKS[0]!;

describe("beforeSend", () => {
  it("redacts an e-mail property before the event is queued", async () => {
    const store = await startStore();
    const redact: BeforeSend = (event) =>
      event.properties?.email === undefined
        ? event
        : { ...event, properties: { ...event.properties, email: "[redacted]" } };
    const events = startForwarder(store.url(), { beforeSend: redact });
    const properties = { plan: "pro", email: "ada@example.com" };
    events.put({ event: "signup", properties });
    events.put({ event: "login" });
    await events.flush();
    const rows = store.deliveredRows();
    expect(rows.map((row) => [row.event, row.properties])).toEqual([
      ["signup", { plan: "pro", email: "[redacted]" }],
      ["login", {}],
    ]);
    expect(store.requests.map((r) => r.body).join("")).not.toContain("ada@example.com");
    expect(properties.email).toBe("ada@example.com"); // the app's object is left alone
  });

  it("samples request events at 10% and drops health checks, counted as filtered, not dropped", async () => {
    const store = await startStore();
    let seen = 0;
    const sample: BeforeSend = (event) => {
      if (event.event !== "request") return event;
      if (event.properties?.path === "/health") return null;
      return seen++ % 10 === 0 ? event : null; // deterministic 10%: every tenth
    };
    const events = startForwarder(store.url(), { beforeSend: sample });
    const closed = { count: 0 };
    const app = await express5.serve({ forwarders: [events], onClose: () => closed.count++ });
    for (let i = 0; i < 20; i++) await request(app).get(`/api/items/${i}`).expect(200);
    await request(app).get("/health").expect(200);
    await waitFor(() => closed.count === 21, { what: "21 responses done" });
    await events.flush();
    const paths = store.deliveredRows().map((row) => row.properties.path);
    expect(paths).toEqual(["/api/items/0", "/api/items/10"]);
    expect(events.stats()).toMatchObject({ filtered: 19, dropped: 0, sent: 2, beforeSendErrors: 0 });
  });

  it("runs before the size check: a hook that trims an event lets it through", async () => {
    const store = await startStore();
    const trim: BeforeSend = (event) => ({
      ...event,
      properties: { note: String(event.properties?.note).slice(0, 10) },
    });
    const events = startForwarder(store.url(), { beforeSend: trim, maxEventSize: 400 });
    events.put({ event: "big", properties: { note: "x".repeat(1000) } });
    await events.flush();
    expect(store.deliveredRows()[0]!.properties).toEqual({ note: "xxxxxxxxxx" });
    // What the hook returns is still checked.
    const grow = startForwarder(store.url(), {
      beforeSend: (event) => ({ ...event, properties: { note: "y".repeat(1000) } }),
      maxEventSize: 400,
    });
    expect(() => grow.put({ event: "small" })).toThrow(EventTooLargeError);
  });

  it("a hook that throws fails that put() with a BeforeSendError (an EventError), counted and logged once", async () => {
    const store = await startStore();
    const logger = recordingLogger();
    const events = startForwarder(store.url(), {
      logger,
      beforeSend: (event) => {
        if (event.event === "bad") throw new Error("no bad events");
        return event;
      },
    });
    const attempt = () => events.put({ event: "bad" });
    expect(attempt).toThrow(BeforeSendError);
    expect(attempt).toThrow(EventError);
    expect(attempt).toThrow("option beforeSend threw: no bad events");
    events.put({ event: "good" });
    await events.flush();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["good"]);
    expect(events.stats()).toMatchObject({ beforeSendErrors: 3, filtered: 0, dropped: 0, queued: 0 });
    expect(logger.messages.filter((m) => m.includes("beforeSend"))).toHaveLength(1);
  });

  it("a hook that returns undefined (a missing return) is an error, not a silent drop", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { beforeSend: (() => undefined) as unknown as BeforeSend });
    expect(() => events.put({ event: "signup" })).toThrow(
      "option beforeSend returned undefined: return the event (changed or not), or null to drop it",
    );
    expect(events.stats().filtered).toBe(0);
  });

  it("a hook that throws on request events leaves the request alone, counted and logged once", async () => {
    const store = await startStore();
    const logger = recordingLogger();
    const events = startForwarder(store.url(), {
      logger,
      beforeSend: (event) => {
        if (event.event === "request") throw new TypeError("cannot read properties of undefined");
        return event;
      },
    });
    const closed = { count: 0 };
    const app = await express5.serve({ forwarders: [events], onClose: () => closed.count++ });
    await request(app).get("/users/1").expect(200);
    await request(app).get("/users/2").expect(200);
    await waitFor(() => closed.count === 2, { what: "2 responses done" });
    await events.flush();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["user.viewed", "user.viewed"]);
    expect(events.stats().beforeSendErrors).toBe(2);
    expect(logger.messages).toEqual([
      "warn: option beforeSend threw: cannot read properties of undefined (reported once; stats().beforeSendErrors counts them)",
    ]);
  });

  it("is not called once the forwarder is closed: put() throws ForwarderClosedError", async () => {
    const store = await startStore();
    const calls: EventInput[] = [];
    const events = startForwarder(store.url(), { beforeSend: (event) => (calls.push(event), null) });
    await events.close({ timeoutMs: 100 });
    expect(() => events.put({ event: "late" })).toThrow(ForwarderClosedError);
    expect(calls).toEqual([]);
  });

  it("must be a function", () => {
    expect(() =>
      eventsForward({ apiUrl: "http://127.0.0.1:1/db/t/-/insert", beforeSend: "redact" as unknown as BeforeSend }),
    ).toThrow(new OptionError("beforeSend", "must be a function"));
  });
});
