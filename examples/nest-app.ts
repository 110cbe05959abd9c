// A NestJS app on its default Express adapter: the handle is Express middleware, so Nest's
// app.use() mounts it for every route, and handlers reach the context through the Express
// request (`@Req() req`, then `req.events`). The route pattern is Nest's ("/users/:id").
// Run it alone: `npm run build && npx tsx examples/nest-app.ts` (needs FORWARD_URL or the embedded store).
// (On Nest's Fastify adapter: `await app.register(events.fastify)` instead, and `request.events`.)
import "reflect-metadata";
import { Controller, Get, Module, Param, Post, Req, type INestApplication } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import type { Request } from "express";
import { pathToFileURL } from "node:url";
import { eventsForward, type EventsForward } from "events-forward";

@Controller("users")
class UsersController {
  @Get(":id")
  view(@Param("id") id: string, @Req() req: Request) {
    req.events.put({ event: "user.viewed", properties: { user: id } });
    return { id, requestId: req.events.requestId };
  }

  @Post()
  create(@Req() req: Request) {
    req.events.put({ event: "signup", properties: { plan: "pro" } });
    return { created: true };
  }
}

@Module({ controllers: [UsersController] })
class AppModule {}

export async function createNestApp(events: EventsForward): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: false });
  app.use(events);
  return app;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const events = eventsForward({
    ...(process.env.FORWARD_URL ? { apiUrl: process.env.FORWARD_URL, apiToken: { $env: "FORWARD_TOKEN" } } : {}),
    instance: "example-nest",
  });
  const app = await createNestApp(events);
  await app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
  console.log(`listening on ${await app.getUrl()}`);
  process.once("SIGINT", async () => {
    await app.close();
    console.log(await events.close({ timeoutMs: 5000 }));
  });
}
