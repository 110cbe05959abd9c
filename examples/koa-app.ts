// The same app on Koa: ctx.events is the request context.
// Run it alone: `npm run build && npx tsx examples/koa-app.ts` (needs FORWARD_URL or the embedded store).
import Koa from "koa";
import { pathToFileURL } from "node:url";
import { eventsForward, type EventsForward } from "events-forward";

export function createKoaApp(events: EventsForward): Koa {
  const app = new Koa();
  app.use(events);
  app.use(async (ctx) => {
    if (ctx.method === "POST" && ctx.path === "/signup") {
      ctx.events.put({ event: "signup", actorId: "koa-user", properties: { plan: "pro" } });
      ctx.status = 201;
    } else if (ctx.path === "/health") {
      ctx.body = "ok";
    } else {
      ctx.status = 404;
    }
  });
  return app;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const events = eventsForward({
    ...(process.env.FORWARD_URL ? { apiUrl: process.env.FORWARD_URL, apiToken: { $env: "FORWARD_TOKEN" } } : {}),
    instance: "example-koa",
    skip: (ctx) => ctx.path === "/health",
  });
  const server = createKoaApp(events).listen(Number(process.env.PORT ?? 3001), () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  process.once("SIGINT", async () => {
    server.close();
    console.log(await events.close({ timeoutMs: 5000 }));
  });
}
