import express from "express";
import Fastify from "fastify";
import request from "supertest";
import { afterEach, describe, expect, test } from "vitest";
import { eventsForward, OptionError, type EventsForwardOptions } from "../../src/index.js";
import { useLoopbackStore } from "../helpers/forward-to.js";
import { waitFor } from "../helpers/wait.js";

// Issue 28, item 10: request events record the raw path of every request (404s too), where reset
// tokens, magic links and webhook secrets live; requestPath says how much of it to keep.

const t = useLoopbackStore();
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

type Props = Record<string, unknown>;

/** The request events of a reset link (matched by a mounted router) and of an unmatched magic link. */
async function expressEvents(options: EventsForwardOptions): Promise<Props[]> {
  const h = t.forward({ requestEvents: true, ...options });
  const app = express();
  app.use(h.events);
  const users = express.Router();
  users.get("/reset/:token", (_req, res) => {
    res.send("ok");
  });
  app.use("/users/:id", users);
  await request(app).get("/users/42/reset/RESET-SECRET?x=QUERY-SECRET").expect(200);
  await request(app).get("/magic/MAGIC-SECRET").expect(404);
  await waitFor(() => h.events.stats().queued + h.events.stats().sent === 2, { what: "two request events" });
  await h.events.flush();
  return [...t.store.table.values()].map((row) => JSON.parse(row.properties) as Props);
}

async function fastifyEvents(options: EventsForwardOptions): Promise<Props[]> {
  const h = t.forward({ requestEvents: true, ...options });
  const app = Fastify();
  closing.push(() => app.close());
  await app.register(h.events.fastify);
  app.get("/users/:id/reset/:token", async () => "ok");
  expect((await app.inject({ url: "/users/42/reset/RESET-SECRET" })).statusCode).toBe(200);
  expect((await app.inject({ url: "/magic/MAGIC-SECRET" })).statusCode).toBe(404);
  await waitFor(() => h.events.stats().queued + h.events.stats().sent === 2, { what: "two request events" });
  await h.events.flush();
  return [...t.store.table.values()].map((row) => JSON.parse(row.properties) as Props);
}

const NO_SECRET = /SECRET|\/users\/42/;

describe("option requestPath", () => {
  test('"path" (the default): the path without its query, and the route', async () => {
    const [reset, magic] = await expressEvents({});
    expect(reset).toMatchObject({ path: "/users/42/reset/RESET-SECRET", route: "/users/42/reset/:token" });
    expect(magic).toMatchObject({ path: "/magic/MAGIC-SECRET", status: 404 });
    expect(JSON.stringify([reset, magic])).not.toContain("QUERY-SECRET");
  });

  test('"route": the route pattern alone, where the framework knows it; nothing of an unmatched path', async () => {
    const [reset, magic] = await expressEvents({ requestPath: "route" });
    expect(reset).not.toHaveProperty("path");
    // Express keeps the path a router was mounted at as matched (/users/42), not as a pattern: left out.
    expect(reset).toMatchObject({ route: "/reset/:token", status: 200 });
    expect(magic).not.toHaveProperty("path");
    expect(magic).not.toHaveProperty("route");
    expect(magic).toMatchObject({ method: "GET", status: 404 });
    expect(JSON.stringify([reset, magic])).not.toMatch(NO_SECRET);

    t.store.table.clear();
    const [fastReset, fastMagic] = await fastifyEvents({ requestPath: "route" });
    expect(fastReset).toMatchObject({ route: "/users/:id/reset/:token" });
    expect(fastReset).not.toHaveProperty("path");
    expect(fastMagic).not.toHaveProperty("path");
    expect(JSON.stringify([fastReset, fastMagic])).not.toMatch(NO_SECRET);
  });

  test("false: neither path nor route", async () => {
    const events = await expressEvents({ requestPath: false });
    for (const p of events) {
      expect(p).not.toHaveProperty("path");
      expect(p).not.toHaveProperty("route");
      expect(p).toHaveProperty("status");
    }
    expect(JSON.stringify(events)).not.toMatch(NO_SECRET);
  });

  test("anything else is refused at start-up", () => {
    for (const value of ["raw", true, "", 1]) {
      expect(() => eventsForward({ apiUrl: t.store.url(), requestPath: value as never, logger: false })).toThrow(
        OptionError,
      );
    }
  });
});
