// A Cloudflare Worker: a Hono app with `app.use(events.hono)`, forwarding to the Datasette the
// bindings name. test/runtimes/workers.test.ts bundles it as wrangler does and runs it on workerd
// (Miniflare). Batches would wait a minute to fill (batchWaitMs): only the delivery the middleware
// hands to c.executionCtx.waitUntil sends them.
import { Hono } from "hono";
import { eventsForward } from "events-forward";

let events;
const warnings = [];
const app = new Hono();

// What the package refuses to start with on a runtime without a file system.
app.get("/start-up/:case", (c) => {
  const options = { apiUrl: c.env.API_URL, apiToken: c.env.API_TOKEN, logger: false };
  const attempts = {
    "sqlite-spool": { ...options, spool: "/tmp/events-spool.db" },
    "embedded-store": { database: "/tmp/events.db", logger: false },
  };
  try {
    eventsForward(attempts[c.req.param("case")]).close();
    return c.json({ started: true });
  } catch (error) {
    return c.json({ name: error.name, option: error.option, message: error.message });
  }
});
app.get("/warnings", (c) => c.json(warnings));
app.get("/stats", (c) => c.json(events?.stats() ?? null));

app.use(async (c, next) => {
  events ??= eventsForward({
    apiUrl: c.env.API_URL,
    apiToken: c.env.API_TOKEN,
    table: "worker_events",
    instance: "workerd",
    batchWaitMs: 60_000,
    logger: { warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
  });
  return events.hono(c, next);
});
app.get("/users/:id", (c) => {
  c.var.events.put({ event: "user.viewed", properties: { user: c.req.param("id") } });
  return c.json({ id: c.req.param("id") });
});

export default app;
