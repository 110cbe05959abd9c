// One scenario table, run on every server the package supports (test/helpers/apps.ts): Express 4
// and 5, Koa 2 and 3, Fastify 5, Hono 4 on @hono/node-server, and plain node:http, each a real
// server on a loopback port, forwarding to the loopback test store.
import { get } from "node:http";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { EventsForward, EventsForwardOptions } from "../../src/index.js";
import { FRAMEWORKS, type AppSpec } from "../helpers/apps.js";
import { clientIpHash } from "../../src/http/request-privacy.js";
import { ULID } from "../helpers/row-format.js";
import { onCleanup, startForwarder as forwarder, startStore as store } from "../helpers/lifecycle.js";
import { unreachableUrl, type ArrivedRow, type Behaviour, type TestStore } from "../helpers/test-store.js";
import { gate, waitFor } from "../helpers/wait.js";

/** Counts responses that are done (the 'close' listener runs after the middleware's own). */
function doneCounter() {
  const counter = {
    count: 0,
    onClose: () => counter.count++,
    until: (n: number) => waitFor(() => counter.count >= n, { what: `${n} finished responses` }),
  };
  return counter;
}

/** Everything the forwarder accepted, delivered to the recording store. */
async function delivered(events: EventsForward, recorder: TestStore): Promise<ArrivedRow[]> {
  await events.flush();
  return recorder.deliveredRows();
}

const requestRows = (rows: ArrivedRow[]) => rows.filter((row) => row.event === "request");

describe.each(FRAMEWORKS)("requests on $name", (framework) => {
  /** The route pattern this framework records for `pattern` (node:http has no routes). */
  const route = (pattern: string) => (framework.routes ? pattern : undefined);

  /** One forwarder into one recording store, mounted on the framework's test app. */
  async function mounted(options: Partial<EventsForwardOptions> = {}, spec: Partial<AppSpec> = {}) {
    const recorder = await store();
    const events = forwarder(recorder.url(), options);
    const done = doneCounter();
    const app = await framework.serve({ forwarders: [events], onClose: done.onClose, ...spec });
    return { recorder, events, app, done };
  }

  it("attaches the request context, and put() through it delivers the event", async () => {
    const { recorder, events, app } = await mounted();
    const res = await request(app).get("/users/42").expect(200);
    expect(res.body.events).toMatch(ULID);
    const viewed = (await delivered(events, recorder)).filter((row) => row.event === "user.viewed");
    expect(viewed).toHaveLength(1);
    expect(viewed[0]!.properties).toEqual({ user: "42", context: "events", request_id: res.body.events });
  });

  it("mounts two forwarders side by side under different names, with separate queues", async () => {
    const [first, second] = [await store(), await store()];
    const events = forwarder(first.url());
    const v2 = forwarder(second.url(), { name: "events_v2" });
    const done = doneCounter();
    const app = await framework.serve({
      forwarders: [events, v2],
      names: ["events", "events_v2"],
      onClose: done.onClose,
    });

    const res = await request(app).get("/users/7").set("X-Request-Id", "shared-id").expect(200);
    expect(res.body).toEqual({ events: "shared-id", events_v2: "shared-id" });
    await done.until(1);
    const firstRows = await delivered(events, first);
    const secondRows = await delivered(v2, second);
    expect(firstRows.filter((r) => r.event === "user.viewed").map((r) => r.properties.context)).toEqual(["events"]);
    expect(secondRows.filter((r) => r.event === "user.viewed").map((r) => r.properties.context)).toEqual(["events_v2"]);
    // Each forwarder records the request once, into its own store.
    expect(requestRows(firstRows)).toHaveLength(1);
    expect(requestRows(secondRows)).toHaveLength(1);
    expect(events.stats().sent).toBe(2);
    expect(v2.stats().sent).toBe(2);
  });

  it("gives both forwarders of one request the same fresh request id when none is sent", async () => {
    const [first, second] = [await store(), await store()];
    const events = forwarder(first.url());
    const v2 = forwarder(second.url(), { name: "events_v2" });
    const app = await framework.serve({ forwarders: [events, v2], names: ["events", "events_v2"] });
    const res = await request(app).get("/users/7").expect(200);
    expect(res.body.events).toMatch(ULID);
    expect(res.body.events_v2).toBe(res.body.events);
  });

  it("uses a sane incoming X-Request-Id as properties.request_id", async () => {
    const { recorder, events, app, done } = await mounted();
    const res = await request(app).get("/users/1").set("X-Request-Id", "req-abc.123:x/y=").expect(200);
    expect(res.body.events).toBe("req-abc.123:x/y=");
    await done.until(1);
    const rows = await delivered(events, recorder);
    expect(rows.map((row) => [row.event, row.properties.request_id])).toEqual([
      ["user.viewed", "req-abc.123:x/y="],
      ["request", "req-abc.123:x/y="],
    ]);
  });

  it("makes a fresh ULID when X-Request-Id is absent, empty, too long, or holds spaces or control characters", async () => {
    const { app } = await mounted();
    const absurd = ["x".repeat(129), "has space", "tab\there", "<script>", ""];
    const seen = new Set<string>();
    for (const value of [undefined, ...absurd]) {
      const req = request(app).get("/users/1");
      if (value !== undefined) req.set("X-Request-Id", value);
      const res = await req.expect(200);
      expect(res.body.events, `X-Request-Id ${JSON.stringify(value)}`).toMatch(ULID);
      seen.add(res.body.events);
    }
    expect(seen.size).toBe(absurd.length + 1);
    // The longest sane id passes through unchanged.
    const longest = "y".repeat(128);
    expect((await request(app).get("/users/1").set("X-Request-Id", longest)).body.events).toBe(longest);
  });

  it("takes the actor id from the user that authentication (mounted later) sets, looked up at put time", async () => {
    const { recorder, events, app, done } = await mounted({}, { auth: true });
    await request(app).get("/users/1").set("X-User", "u-9").expect(200);
    await request(app).get("/users/2").expect(200);
    await done.until(2);
    const rows = await delivered(events, recorder);
    expect(rows.map((row) => [row.event, row.properties.user ?? row.properties.path, row.actor_id])).toEqual([
      ["user.viewed", "1", "u-9"],
      ["request", "/users/1", "u-9"],
      ["user.viewed", "2", null],
      ["request", "/users/2", null],
    ]);
  });

  it("takes the actor id from option actor(), and a throwing actor() leaves it empty without failing the request", async () => {
    const byHeader = await mounted({ actor: (r) => framework.headerOf(r, "x-actor") });
    await request(byHeader.app).get("/users/1").set("X-Actor", "a-1").expect(200);
    await byHeader.done.until(1);
    expect((await delivered(byHeader.events, byHeader.recorder)).map((row) => row.actor_id)).toEqual(["a-1", "a-1"]);

    const throwing = await mounted({
      actor: () => {
        throw new Error("no session store");
      },
    });
    await request(throwing.app).get("/users/1").expect(200);
    await throwing.done.until(1);
    expect((await delivered(throwing.events, throwing.recorder)).map((row) => row.actor_id)).toEqual([null, null]);
  });

  it("records one request event with method, path without query, route pattern, status, duration and request id", async () => {
    const { recorder, events, app, done } = await mounted();
    const sentAt = performance.now();
    const res = await request(app).get("/users/42?token=s3cret&x=1").expect(200);
    const roundTrip = performance.now() - sentAt;
    await done.until(1);
    const [event] = requestRows(await delivered(events, recorder));
    expect(event).toBeDefined();
    const { duration_ms, ...rest } = event!.properties;
    expect(rest).toEqual({
      method: "GET",
      path: "/users/42",
      route: route("/users/:id"),
      status: 200,
      request_id: res.body.events,
    });
    // Measured (a fraction of a millisecond, to the microsecond), and within the client's round trip.
    expect(typeof duration_ms).toBe("number");
    expect(duration_ms as number).toBeGreaterThan(0);
    expect(duration_ms as number).toBeLessThanOrEqual(roundTrip);
    expect(JSON.stringify(event!.raw)).not.toContain("s3cret");
  });

  it("records the route pattern of a route in a mounted router", async () => {
    const { recorder, events, app, done } = await mounted();
    await request(app).post("/api/items/9").expect(404); // same path, no route: no pattern
    await request(app).get("/api/items/9").expect(200);
    await done.until(2);
    const rows = requestRows(await delivered(events, recorder));
    expect(
      rows.map((row) => [row.properties.method, row.properties.path, row.properties.route, row.properties.status]),
    ).toEqual([
      ["POST", "/api/items/9", undefined, 404],
      ["GET", "/api/items/9", route("/api/items/:itemId"), 200],
    ]);
  });

  it("records 404 for an unknown path and 500 for a throwing handler", async () => {
    const { recorder, events, app, done } = await mounted();
    await request(app).get("/nope").expect(404);
    await request(app).get("/boom").expect(500);
    await done.until(2);
    const rows = requestRows(await delivered(events, recorder));
    expect(rows.map((row) => [row.properties.path, row.properties.status, row.properties.route])).toEqual([
      ["/nope", 404, undefined],
      ["/boom", 500, route("/boom")],
    ]);
    expect(rows.every((row) => row.properties.aborted === undefined)).toBe(true);
  });

  it("records aborted: true when the client goes away before the response", async () => {
    const hanging = gate();
    const { recorder, events, app, done } = await mounted({}, { onHang: () => hanging.open() });
    const client = get(`${app}/hang`);
    client.on("error", () => {}); // the abort below is deliberate
    await hanging.promise;
    client.destroy();
    await done.until(1);
    const rows = requestRows(await delivered(events, recorder));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.properties).toMatchObject({ method: "GET", path: "/hang", aborted: true, status: null });
  });

  it("records the headers named in captureHeaders, and the client IP as a keyed hash with clientIpKey", async () => {
    const key = "k".repeat(16);
    const { recorder, events, app, done } = await mounted({
      captureHeaders: ["User-Agent", "x-absent"],
      clientIpKey: key,
    });
    await request(app).get("/health").set("User-Agent", "probe/1.0").expect(200, "ok");
    await done.until(1);
    const [event] = requestRows(await delivered(events, recorder));
    expect(event!.properties.headers).toEqual({ "user-agent": "probe/1.0" });
    expect(event!.properties.client_ip_hash).toBe(clientIpHash("127.0.0.1", key));
  });

  it("records no request event with requestEvents: false, but still delivers put() events", async () => {
    const { recorder, events, app, done } = await mounted({ requestEvents: false });
    await request(app).get("/users/3").expect(200);
    await done.until(1);
    expect((await delivered(events, recorder)).map((row) => row.event)).toEqual(["user.viewed"]);
  });

  it("skips the request event when skip() says so, and only then", async () => {
    const given: unknown[] = [];
    const { recorder, events, app, done } = await mounted({
      skip: (r) => {
        given.push(r);
        return framework.pathOf(r) === "/health";
      },
    });
    await request(app).get("/health").expect(200, "ok");
    await request(app).get("/users/3").expect(200);
    await done.until(2);
    expect(requestRows(await delivered(events, recorder)).map((row) => row.properties.path)).toEqual(["/users/3"]);
    expect(given).toHaveLength(2);
  });

  it("answers the request and records it when skip() throws", async () => {
    const { recorder, events, app, done } = await mounted({
      skip: () => {
        throw new Error("bad skip");
      },
    });
    await request(app).get("/health").expect(200, "ok");
    await done.until(1);
    expect(requestRows(await delivered(events, recorder)).map((row) => row.properties.path)).toEqual(["/health"]);
  });

  it("answers the request when the queue is full, counting the refused request event", async () => {
    const events = forwarder(await unreachableUrl(), { maxQueueSize: 1 });
    events.put({ event: "filler" });
    const done = doneCounter();
    const app = await framework.serve({ forwarders: [events], onClose: done.onClose });
    await request(app).get("/health").expect(200, "ok");
    await done.until(1);
    expect(events.stats()).toMatchObject({ queued: 1, overflowed: 1 });
  });

  it("does not delay the response while the store hangs: the request event is put after 'finish'", async () => {
    const held = gate<Behaviour>();
    const recorder = await store();
    recorder.behave = () => held.promise;
    onCleanup(async () => held.open({ accept: true }));
    const events = forwarder(recorder.url(), { requestTimeoutMs: 60_000 });
    events.put({ event: "before" });
    await waitFor(() => recorder.inFlight === 1, { what: "the first batch to be in flight" });

    const queuedAtFinish: number[] = [];
    const done = doneCounter();
    const app = await framework.serve({
      forwarders: [events],
      onFinish: () => queuedAtFinish.push(events.stats().queued),
      onClose: done.onClose,
    });
    await request(app).get("/health").expect(200, "ok");
    await done.until(1);
    expect(recorder.requests[0]!.status).toBeUndefined(); // still held: the response did not wait for it
    // Put after 'finish' where there is a Node response to watch; else when the handlers answered.
    expect(queuedAtFinish).toEqual([framework.putsBeforeResponse ? 2 : 1]);
    expect(events.stats().queued).toBe(2);
  });
});
