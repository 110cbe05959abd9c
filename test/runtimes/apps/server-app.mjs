// One app, run on Bun or Deno by test/runtimes/bun-deno.test.ts: a real server of one framework
// (FRAMEWORK: express, fastify or hono) with events-forward mounted, forwarding to a real Datasette
// (STORE=datasette, with API_URL and API_TOKEN) or to the embedded store (STORE=embedded, DATABASE).
// It asks itself REQUESTS times for GET /users/:id over loopback (each puts user.viewed, and the
// package records the request), closes the forwarder, and prints what it saw as one JSON line.
import { eventsForward } from "../../../dist/index.js";

const env = (name) => {
  const value = globalThis.process?.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const framework = env("FRAMEWORK");
const requests = Number(env("REQUESTS"));
const options =
  env("STORE") === "datasette"
    ? { apiUrl: env("API_URL"), apiToken: env("API_TOKEN"), table: "runtime_events" }
    : { database: env("DATABASE") };
const warnings = [];
const events = eventsForward({
  ...options,
  instance: env("INSTANCE"),
  batchWaitMs: 10,
  logger: { warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
});

const viewed = (put, id) => {
  put({ event: "user.viewed", properties: { user: id } });
  return { id };
};

/** Starts the app on a free loopback port; resolves with its base URL and a function that stops it. */
async function serve() {
  if (framework === "express") {
    const { default: express } = await import("express");
    const app = express();
    app.use(events);
    app.get("/users/:id", (req, res) => res.json(viewed((e) => req.events.put(e), req.params.id)));
    const server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    return { url: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() };
  }
  if (framework === "fastify") {
    const { default: Fastify } = await import("fastify");
    const app = Fastify();
    await app.register(events.fastify);
    app.get("/users/:id", async (request) => viewed((e) => request.events.put(e), request.params.id));
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url, stop: () => app.close() };
  }
  if (framework === "hono") {
    const { Hono } = await import("hono");
    const app = new Hono();
    app.use(events.hono);
    app.get("/users/:id", (c) => c.json(viewed((e) => c.var.events.put(e), c.req.param("id"))));
    // Each runtime's own server, as its users run Hono: Bun.serve, Deno.serve.
    if (globalThis.Bun !== undefined) {
      const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
      return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
    }
    if (globalThis.Deno !== undefined) {
      const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
      return { url: `http://127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
    }
  }
  throw new Error(`no ${framework} server on this runtime`);
}

const { url, stop } = await serve();
for (let id = 1; id <= requests; id++) {
  const response = await fetch(`${url}/users/${id}`, { headers: { "x-request-id": `req-${id}` } });
  if (response.status !== 200) throw new Error(`GET /users/${id} answered ${response.status}`);
  await response.text();
}
// Express and Fastify put the request event once the response is done, which the client may see
// first: wait until every event (a user.viewed and a request event per request) is accepted.
const deadline = Date.now() + 10_000;
while (events.stats().queued + events.stats().sent < 2 * requests && Date.now() < deadline)
  await new Promise((resolve) => setTimeout(resolve, 5));
const closed = await events.close({ timeoutMs: 10_000 });
await stop();
console.log(JSON.stringify({ closed, stats: events.stats(), warnings }));
