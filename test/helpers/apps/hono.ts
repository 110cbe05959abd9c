import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { putThrough, serveListener, type AppSpec, type Framework } from "./spec.js";

type Env = { Bindings: HttpBindings; Variables: { user: { id: string } } };

export const honoFramework: Framework = {
  name: "Hono 4",
  routes: true,
  serve: (spec) => serveListener(getRequestListener(honoApp(spec).fetch), spec),
  pathOf: (c) => (c as Context).req.path,
  headerOf: (c, h) => (c as Context).req.header(h),
};

function honoApp(spec: AppSpec): Hono<Env> {
  const app = new Hono<Env>();
  for (const events of spec.forwarders) app.use(events.hono);
  app.use(async (c, next) => {
    if (spec.onClose) c.env.outgoing.once("close", spec.onClose);
    await next();
  });
  if (spec.auth) {
    app.use(async (c, next) => {
      const user = c.req.header("x-user");
      if (user) c.set("user", { id: user });
      await next();
    });
  }
  const names = spec.names ?? ["events"];
  app.get("/users/:id", (c) =>
    c.json(putThrough(c.var as unknown as Record<string, unknown>, names, c.req.param("id"))),
  );
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.get("/health", (c) => c.text("ok"));
  app.get("/hang", async (c) => {
    spec.onHang?.();
    await new Promise((resolve) => c.env.outgoing.once("close", resolve));
    return c.text("late");
  });
  const api = new Hono<Env>();
  api.get("/items/:itemId", (c) => c.text("item"));
  app.route("/api", api);
  app.onError((_error, c) => c.text("Internal Server Error", 500)); // the deliberate /boom error is not worth a stack trace
  return app;
}
