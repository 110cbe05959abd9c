// A small Express app that records every request and a few business events.
// Run it alone: `npm run build && npx tsx examples/express-app.ts` (needs FORWARD_URL or the embedded store).
import express from "express";
import { pathToFileURL } from "node:url";
import { EventQueueFullError, eventsForward, type EventsForward } from "events-forward";

export function createExpressApp(events: EventsForward): express.Express {
  const app = express();
  app.use(events);
  app.use(express.json());
  app.post("/signup", (req, res) => {
    req.events.put({
      event: "signup",
      actorId: req.body?.user ?? "anonymous",
      properties: { plan: req.body?.plan ?? "free" },
    });
    res.sendStatus(201);
  });
  app.post("/exports", (req, res) => {
    try {
      req.events.put({ event: "export-started", properties: { format: "csv" } });
    } catch (error) {
      // A full queue means the store is down or slow: the request still succeeds.
      if (!(error instanceof EventQueueFullError)) throw error;
    }
    res.status(202).json({ ok: true });
  });
  app.get("/health", (_req, res) => {
    res.send("ok");
  });
  return app;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const events = eventsForward({
    ...(process.env.FORWARD_URL ? { apiUrl: process.env.FORWARD_URL, apiToken: { $env: "FORWARD_TOKEN" } } : {}),
    instance: "example-express",
    skip: (req) => req.path === "/health",
  });
  const server = createExpressApp(events).listen(Number(process.env.PORT ?? 3000), () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  process.once("SIGINT", async () => {
    server.close();
    console.log(await events.close({ timeoutMs: 5000 }));
  });
}
