import express from "express";
import Koa from "koa";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LegacyEvent } from "../../../src/collector.js";
import { eventsForward, type CollectorEvent, type EventsForward, type RequestEvents } from "../../../src/index.js";
import { useDatasette } from "../../helpers/servers.js";
import { FAST } from "../../helpers/fast-options.js";
import { waitFor } from "../../helpers/wait.js";
import { randomKeyBase64, signatureMatches, startCollector, type TestCollector } from "./collector-server.js";

// Two forwarders side by side, as baseplate's add_to_context("events_v2", queue): `events` to a
// real Datasette, `events_v2` (and `events_legacy`) to a collector, each with its own name, store
// and serializer.

const t = useDatasette();
let tables = 0;
let table: string;

const secret = randomKeyBase64();
let collector: TestCollector;
let events: EventsForward;
let eventsV2: EventsForward<CollectorEvent>;
let legacy: EventsForward<CollectorEvent>;

beforeEach(async () => {
  collector = await startCollector();
  table = `events_${++tables}`;
  events = eventsForward({ apiUrl: t.ds.createUrl, apiToken: t.ds.rootToken, table, ...FAST, logger: false });
  const collectorAt = { hostname: collector.host, scheme: "http" as const, keyName: "k", keySecret: secret };
  eventsV2 = eventsForward({ name: "events_v2", collector: { ...collectorAt, version: 2 }, logger: false });
  legacy = eventsForward({ name: "events_legacy", collector: { ...collectorAt, version: 1 }, logger: false });
});
afterEach(async () => {
  await Promise.all([events.close(), eventsV2.close(), legacy.close()]);
  await collector.close();
});

async function flushAll(): Promise<void> {
  // The request event is put when the response closes, which may be just after the client has it.
  await waitFor(() => events.stats().queued + events.stats().sent >= 2, {
    what: "the request event",
    timeoutMs: 5_000,
  });
  await Promise.all([events.flush(), eventsV2.flush(), legacy.flush()]);
}

async function expectDelivered(): Promise<void> {
  const rows = (await t.ds.rows(table)) as { event: string; properties: string }[];
  expect(rows.map((r) => r.event).sort()).toEqual(["request", "signup"]);
  expect(JSON.parse(rows.find((r) => r.event === "signup")!.properties)).toMatchObject({ plan: "pro" });
  expect(collector.requests).toHaveLength(2);
  const byPath = Object.fromEntries(collector.requests.map((r) => [r.path, r.text]));
  expect(Object.keys(byPath).sort()).toEqual(["/v1", "/v2"]);
  expect(byPath["/v2"]).toBe('{"1":{"lst":["rec",1,{"1":{"str":"signup"},"2":{"str":"pro"}}]}}');
  expect(JSON.parse(byPath["/v1"]!)).toEqual([
    expect.objectContaining({ event_topic: "signups", event_type: "signup", payload: { plan: "pro" } }),
  ]);
  for (const r of collector.requests)
    expect(signatureMatches(r.headers["x-signature"], Buffer.from(r.text), "k", secret)).toBe(true);
}

describe("named queues", () => {
  it("Express: req.events, req.events_v2 and req.events_legacy each reach their own store", async () => {
    expect([events.contextName, eventsV2.contextName, legacy.contextName]).toEqual([
      "events",
      "events_v2",
      "events_legacy",
    ]);
    const app = express();
    app.use(events, eventsV2, legacy);
    app.post("/signup", (req, res) => {
      const named = req as unknown as Record<string, RequestEvents<CollectorEvent>>;
      expect(new Set([named.events, named.events_v2, named.events_legacy]).size).toBe(3);
      req.events.put({ event: "signup", properties: { plan: "pro" } });
      named.events_v2!.put({ "1": { str: "signup" }, "2": { str: "pro" } });
      named.events_legacy!.put(new LegacyEvent("signups", "signup").setField("plan", "pro"));
      res.sendStatus(201);
    });
    await request(app).post("/signup").expect(201);
    await flushAll();
    await expectDelivered();
  });

  it("Koa: ctx.events, ctx.events_v2 and ctx.events_legacy each reach their own store", async () => {
    const app = new Koa();
    app.use(events).use(eventsV2).use(legacy);
    app.use(async (ctx) => {
      const named = ctx as unknown as Record<string, RequestEvents<CollectorEvent>>;
      ctx.events.put({ event: "signup", properties: { plan: "pro" } });
      named.events_v2!.put('{"1":{"str":"signup"},"2":{"str":"pro"}}');
      named.events_legacy!.put(new LegacyEvent("signups", "signup").setField("plan", "pro"));
      ctx.status = 201;
    });
    await request(app.callback()).post("/signup").expect(201);
    await flushAll();
    await expectDelivered();
  });

  it("an event the queue's serializer refuses fails alone, in that queue only", async () => {
    expect(() => legacy.put({ event: "not a legacy Event" })).toThrow(/takes an Event/);
    expect(() => eventsV2.put("not json")).toThrow(/Thrift-JSON/);
    legacy.put(new LegacyEvent("signups", "signup").setField("plan", "pro"));
    await Promise.all([events.flush(), eventsV2.flush(), legacy.flush()]);
    expect(collector.requests.map((r) => r.path)).toEqual(["/v1"]);
    expect([legacy.stats().sent, eventsV2.stats().sent, events.stats().sent]).toEqual([1, 0, 0]);
  });
});
