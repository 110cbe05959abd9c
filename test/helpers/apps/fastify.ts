import Fastify, { type FastifyRequest } from "fastify";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { onCleanup } from "../lifecycle.js";
import { putThrough, stopServer, type AppSpec, type Framework } from "./spec.js";

export const fastifyFramework: Framework = {
  name: "Fastify 5",
  routes: true,
  serve: serveFastify,
  pathOf: (r) => (r as FastifyRequest).url.split("?")[0]!,
  headerOf: (r, h) => (r as FastifyRequest).headers[h] as string | undefined,
};

async function serveFastify(spec: AppSpec): Promise<string> {
  const app = Fastify({
    // spec.onFinish must run before Fastify's own 'finish' listener: on the raw server.
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (spec.onFinish) res.once("finish", spec.onFinish);
        handler(req, res);
      }),
  });
  for (const events of spec.forwarders) await app.register(events.fastify);
  // Hooks run in the order they were added: these run after the forwarders' own.
  if (spec.onClose) {
    const onClose = spec.onClose;
    app.addHook("onResponse", async () => onClose());
    app.addHook("onRequestAbort", async (_request) => onClose());
  }
  if (spec.auth) {
    app.decorateRequest("user", null);
    app.addHook("onRequest", async (request) => {
      const user = request.headers["x-user"];
      if (typeof user === "string" && user !== "") (request as unknown as { user: { id: string } }).user = { id: user };
    });
  }
  const names = spec.names ?? ["events"];
  app.get<{ Params: { id: string } }>("/users/:id", async (request) =>
    putThrough(request as unknown as Record<string, unknown>, names, request.params.id),
  );
  app.get("/boom", async () => {
    throw new Error("boom");
  });
  app.get("/health", async () => "ok");
  app.get("/hang", async (request) => {
    spec.onHang?.();
    await new Promise((resolve) => request.raw.once("close", resolve));
    return "late";
  });
  await app.register(
    async (api) => {
      api.get("/items/:itemId", async () => "item");
    },
    { prefix: "/api" },
  );
  await app.listen({ port: 0, host: "127.0.0.1" });
  onCleanup(async () => {
    await stopServer(app.server);
    await app.close();
  });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}
