// What each framework's own conventions ask of its adapter, beyond the request table
// (test/frameworks.test.ts): Fastify's plugin contract, Hono's context variables, node:http's wrap.
import { getRequestListener } from "@hono/node-server";
import Fastify from "fastify";
import { Hono } from "hono";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ForwarderClosedError, RequestEvents } from "../../src/index.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { stopServer } from "../helpers/apps/spec.js";

/** Serves a Fastify app on a free loopback port; its base URL. */
async function listen(app: ReturnType<typeof Fastify>): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe("the Fastify plugin", () => {
  it("registers under its name, for Fastify 5, and decorates the request up front", async () => {
    const events = startForwarder((await startStore()).url());
    const app = Fastify();
    onCleanup(() => app.close());
    await app.register(events.fastify);
    expect(app.hasPlugin("events-forward")).toBe(true);
    expect(app.hasRequestDecorator("events")).toBe(true);
    expect((events.fastify as unknown as Record<symbol, unknown>)[Symbol.for("plugin-meta")]).toEqual({
      name: "events-forward",
      fastify: "5.x",
    });
  });

  it("applies to routes of other plugins (it is not encapsulated), and request.events works in their hooks", async () => {
    const store = await startStore();
    const events = startForwarder(store.url());
    const app = Fastify();
    onCleanup(() => app.close());
    await app.register(events.fastify);
    await app.register(async (child) => {
      child.addHook("preHandler", async (request) => {
        request.events.put({ event: "checked" });
      });
      child.get("/child/:id", async (request) => ({ id: request.events.requestId }));
    });
    const res = await fetch(`${await listen(app)}/child/1`, { headers: { "x-request-id": "abc" } });
    expect(await res.json()).toEqual({ id: "abc" });
    await events.flush();
    const rows = store.deliveredRows();
    expect(rows.map((row) => [row.event, row.properties.request_id, row.properties.route])).toEqual([
      ["checked", "abc", undefined],
      ["request", "abc", "/child/:id"],
    ]);
  });

  it("drains the forwarder when the app closes", async () => {
    const store = await startStore();
    const events = startForwarder(store.url(), { batchWaitMs: 60_000 });
    const app = Fastify();
    await app.register(events.fastify);
    app.get("/", async (request) => {
      request.events.put({ event: "hello" });
      return "ok";
    });
    expect(await (await fetch(`${await listen(app)}/`)).text()).toBe("ok");
    expect(store.deliveredRows()).toEqual([]); // still waiting for its batch
    await app.close();
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["hello", "request"]);
    expect(() => events.put({ event: "late" })).toThrow(ForwarderClosedError);
  });
});

describe("the Hono middleware", () => {
  it("sets the context as a context variable: c.var.events and c.get('events') are the same", async () => {
    const events = startForwarder((await startStore()).url());
    const app = new Hono();
    app.use(events.hono);
    app.get("/", (c) =>
      c.json({ same: c.var.events === c.get("events"), context: c.var.events instanceof RequestEvents }),
    );
    const server = createServer(getRequestListener(app.fetch));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onCleanup(() => stopServer(server));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(await res.json()).toEqual({ same: true, context: true });
  });

  it("off Node's server (a web-standard Request, no executionCtx) records the request from Request and Response", async () => {
    const store = await startStore();
    const events = startForwarder(store.url());
    const app = new Hono();
    app.use(events.hono);
    app.get("/items/:id", (c) => {
      c.var.events.put({ event: "item.viewed" });
      return c.text("item", 201);
    });
    const res = await app.request("/items/7?q=1", { headers: { "x-request-id": "req-1" } });
    expect(await res.text()).toBe("item");
    await events.flush();
    const rows = store.deliveredRows();
    expect(rows.map((row) => row.event)).toEqual(["item.viewed", "request"]);
    expect(rows[1]!.properties).toMatchObject({
      method: "GET",
      path: "/items/7",
      route: "/items/:id",
      status: 201,
      request_id: "req-1",
    });
    expect(rows[0]!.properties).toEqual({ request_id: "req-1" });
  });

  it("hands the platform's waitUntil (c.executionCtx: Workers, edge) the delivery of the request's events", async () => {
    const store = await startStore();
    // A batch would wait a minute to fill: only the flush handed to waitUntil sends it now.
    const events = startForwarder(store.url(), { batchWaitMs: 60_000 });
    const app = new Hono();
    app.use(events.hono);
    app.get("/", (c) => {
      c.var.events.put({ event: "hello" });
      return c.text("ok");
    });
    const waited: Promise<unknown>[] = [];
    const executionCtx = {
      waitUntil: (promise: Promise<unknown>) => waited.push(promise),
      passThroughOnException() {},
    };
    const res = await app.fetch(new Request("http://worker.test/"), {}, executionCtx as never);
    expect(await res.text()).toBe("ok");
    expect(waited).toHaveLength(1);
    await Promise.all(waited);
    expect(store.deliveredRows().map((row) => row.event)).toEqual(["hello", "request"]);
  });
});

describe("events.wrap", () => {
  it("refuses what is not a request handler, with a TypeError that says what it takes", () => {
    const events = startForwarder("http://127.0.0.1:9/data/-/create");
    expect(() => events.wrap("handler" as never)).toThrow(/takes a request handler/);
  });
});
