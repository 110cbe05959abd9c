import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { putThrough, serveListener, type AppSpec, type Framework } from "./spec.js";

type Env = { Bindings: HttpBindings; Variables: { user: { id: string } } };

export const honoFramework: Framework = {
  name: "Hono 4",
  routes: true,
  serve: (spec) => serveListener(getRequestListener(honoApp(spec, false).fetch), spec),
  pathOf: (c) => (c as Context).req.path,
  headerOf: (c, h) => (c as Context).req.header(h),
};

/**
 * Hono as it runs on Bun.serve, Deno.serve, Workers and edge functions: the app sees only the
 * web-standard Request (no c.env.incoming), so the middleware records from Request and Response.
 * Served by @hono/node-server here, which aborts the Request's signal when the client leaves.
 */
export const honoWebFramework: Framework = {
  ...honoFramework,
  name: "Hono 4 (web-standard Request, as on Bun, Deno, Workers)",
  putsBeforeResponse: true,
  serve: (spec) => {
    const app = honoApp(spec, true);
    // The client's address as Bun.serve gives it (its server as the app's env, server.requestIP).
    const listener = getRequestListener((request, env) =>
      app.fetch(request, { requestIP: () => ({ address: env.incoming.socket.remoteAddress }) }),
    );
    return serveListener((req, res) => {
      if (spec.onClose) res.once("close", spec.onClose);
      return listener(req, res);
    }, spec);
  },
};

function honoApp(spec: AppSpec, web: boolean): Hono<Env> {
  const app = new Hono<Env>();
  for (const events of spec.forwarders) app.use(events.hono);
  if (!web) {
    app.use(async (c, next) => {
      if (spec.onClose) c.env.outgoing.once("close", spec.onClose);
      await next();
    });
  }
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
    const signal = c.req.raw.signal;
    await new Promise((resolve) =>
      web ? signal.addEventListener("abort", resolve, { once: true }) : c.env.outgoing.once("close", resolve),
    );
    return c.text("late");
  });
  const api = new Hono<Env>();
  api.get("/items/:itemId", (c) => c.text("item"));
  app.route("/api", api);
  app.onError((_error, c) => c.text("Internal Server Error", 500)); // the deliberate /boom error is not worth a stack trace
  return app;
}
