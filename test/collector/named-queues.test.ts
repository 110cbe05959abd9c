import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Koa from "koa";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Event, eventsForward, type EventsForward, type RequestEvents } from "../../src/index.js";
import { randomKeyBase64, signatureMatches, startCollector, type TestCollector } from "./collector-server.js";

// Two forwarders side by side, as baseplate's add_to_context("events_v2", queue): `events` to a
// Datasette-shaped write API (a loopback recorder: this test is about the two queues, not Datasette),
// `events_v2` to a collector, each with its own name, sink and serializer.

interface Recorder {
  url: string;
  bodies: { rows: { event: string; properties: string }[] }[];
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const bodies: Recorder["bodies"] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      bodies.push(JSON.parse(text));
      res.writeHead(201, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/data/-/create`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const secret = randomKeyBase64();
let recorder: Recorder;
let collector: TestCollector;
let events: EventsForward;
let eventsV2: EventsForward;
let legacy: EventsForward;

beforeEach(async () => {
  [recorder, collector] = await Promise.all([startRecorder(), startCollector()]);
  events = eventsForward({ apiUrl: recorder.url, logger: false });
  const collectorAt = { hostname: collector.host, scheme: "http" as const, keyName: "k", keySecret: secret };
  eventsV2 = eventsForward({ name: "events_v2", collector: { ...collectorAt, version: 2 }, logger: false });
  legacy = eventsForward({ name: "events_legacy", collector: collectorAt, logger: false });
});
afterEach(async () => {
  await Promise.all([events.close(), eventsV2.close(), legacy.close()]);
  await Promise.all([recorder.close(), collector.close()]);
});

async function flushAll(): Promise<void> {
  await Promise.all([events.flush(), eventsV2.flush(), legacy.flush()]);
}

function expectDelivered(): void {
  const rows = recorder.bodies.flatMap((b) => b.rows);
  expect(rows.map((r) => r.event).sort()).toEqual(["request", "signup"]);
  expect(JSON.parse(rows.find((r) => r.event === "signup")!.properties)).toMatchObject({ plan: "pro" });
  expect(collector.requests).toHaveLength(2);
  const byPath = Object.fromEntries(collector.requests.map((r) => [r.path, r.text]));
  expect(Object.keys(byPath).sort()).toEqual(["/v1", "/v2"]);
  expect(byPath["/v2"]).toBe('{"1":{"lst":["rec",1,{"1":{"str":"signup"},"2":{"str":"pro"}}]}}');
  expect(JSON.parse(byPath["/v1"]!)).toEqual([expect.objectContaining({ event_topic: "signups", event_type: "signup", payload: { plan: "pro" } })]);
  for (const r of collector.requests) expect(signatureMatches(r.headers["x-signature"], Buffer.from(r.text), "k", secret)).toBe(true);
}

describe("named queues", () => {
  it("Express: req.events, req.events_v2 and req.events_legacy each reach their own store", async () => {
    expect([events.contextName, eventsV2.contextName, legacy.contextName]).toEqual(["events", "events_v2", "events_legacy"]);
    const app = express();
    app.use(events, eventsV2, legacy);
    app.post("/signup", (req, res) => {
      const named = req as unknown as Record<string, RequestEvents>;
      expect(new Set([named.events, named.events_v2, named.events_legacy]).size).toBe(3);
      req.events.put({ event: "signup", properties: { plan: "pro" } });
      named.events_v2!.put({ "1": { str: "signup" }, "2": { str: "pro" } });
      named.events_legacy!.put(new Event("signups", "signup").setField("plan", "pro"));
      res.sendStatus(201);
    });
    await request(app).post("/signup").expect(201);
    await flushAll();
    expectDelivered();
  });

  it("Koa: ctx.events, ctx.events_v2 and ctx.events_legacy each reach their own store", async () => {
    const app = new Koa();
    app.use(events).use(eventsV2).use(legacy);
    app.use(async (ctx) => {
      const named = ctx as unknown as Record<string, RequestEvents>;
      ctx.events.put({ event: "signup", properties: { plan: "pro" } });
      named.events_v2!.put('{"1":{"str":"signup"},"2":{"str":"pro"}}');
      named.events_legacy!.put(new Event("signups", "signup").setField("plan", "pro"));
      ctx.status = 201;
    });
    await request(app.callback()).post("/signup").expect(201);
    await flushAll();
    expectDelivered();
  });

  it("an event the queue's serializer refuses fails alone, in that queue only", async () => {
    expect(() => legacy.put({ event: "not a legacy Event" })).toThrow(/takes an Event/);
    expect(() => eventsV2.put("not json")).toThrow(/Thrift-JSON/);
    legacy.put(new Event("signups", "signup").setField("plan", "pro"));
    await flushAll();
    expect(collector.requests.map((r) => r.path)).toEqual(["/v1"]);
    expect([legacy.stats().sent, eventsV2.stats().sent, events.stats().sent]).toEqual([1, 0, 0]);
  });
});
