import Router from "@koa/router";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import type { RequestListener } from "node:http";
import { RequestEvents } from "../../src/index.js";

/** What every test app is built from; every framework builds the same routes. */
export interface AppSpec {
  /** eventsForward() middlewares, mounted first, in order. */
  middlewares: unknown[];
  /** Context names the /users/:id handler puts an event through. */
  names?: string[];
  /** Mount an authentication step after the middlewares: the X-User header becomes the user. */
  auth?: boolean;
  /** Called when GET /hang has started (it never answers: the client must abort). */
  onHang?: () => void;
  /**
   * Listeners on the response, registered by a step mounted after the middlewares, so they run
   * after the middlewares' own listeners for the same event.
   */
  onFinish?: () => void;
  onClose?: () => void;
}

function listen(spec: AppSpec, res: { once(event: string, listener: () => void): unknown }): void {
  if (spec.onFinish) res.once("finish", spec.onFinish);
  if (spec.onClose) res.once("close", spec.onClose);
}

export interface Framework {
  name: string;
  kind: "express" | "koa";
  build(spec: AppSpec): RequestListener;
}

/**
 * Puts one `user.viewed` event through each named context the request has, and answers with
 * the request id each context holds, so a test can tell which contexts were attached.
 */
function putThrough(holder: Record<string, unknown>, names: string[], user: string): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const name of names) {
    const context = holder[name];
    if (!(context instanceof RequestEvents)) continue;
    context.put({ event: "user.viewed", properties: { user, context: name } });
    seen[name] = context.requestId;
  }
  return seen;
}

function expressApp(make: typeof express) {
  return (spec: AppSpec): RequestListener => {
    const app = make();
    app.set("env", "test"); // finalhandler stays quiet about the deliberate /boom error
    for (const middleware of spec.middlewares) app.use(middleware as express.RequestHandler);
    app.use((_req, res, next) => {
      listen(spec, res);
      next();
    });
    if (spec.auth) {
      app.use((req, _res, next) => {
        const user = req.get("x-user");
        if (user) (req as unknown as { user: { id: string } }).user = { id: user };
        next();
      });
    }
    const names = spec.names ?? ["events"];
    app.get("/users/:id", (req, res) => {
      res.json(putThrough(req as unknown as Record<string, unknown>, names, String(req.params.id)));
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    app.get("/health", (_req, res) => {
      res.send("ok");
    });
    app.get("/hang", () => spec.onHang?.());
    const api = make.Router();
    api.get("/items/:itemId", (_req, res) => {
      res.send("item");
    });
    app.use("/api", api);
    return app as unknown as RequestListener;
  };
}

function koaApp(Make: typeof Koa) {
  return (spec: AppSpec): RequestListener => {
    const app = new Make();
    app.silent = true; // the deliberate /boom error is not worth a stack trace
    for (const middleware of spec.middlewares) app.use(middleware as Koa.Middleware);
    app.use((ctx, next) => {
      listen(spec, ctx.res);
      return next();
    });
    if (spec.auth) {
      app.use((ctx, next) => {
        const user = ctx.get("x-user");
        if (user) ctx.state.user = { id: user };
        return next();
      });
    }
    const names = spec.names ?? ["events"];
    const router = new Router();
    router.get("/users/:id", (ctx) => {
      ctx.body = putThrough(ctx as unknown as Record<string, unknown>, names, String(ctx.params.id));
    });
    router.get("/boom", () => {
      throw new Error("boom");
    });
    router.get("/health", (ctx) => {
      ctx.body = "ok";
    });
    router.get("/hang", (ctx) => {
      spec.onHang?.();
      return new Promise<void>((resolve) => ctx.res.once("close", resolve));
    });
    const api = new Router();
    api.get("/items/:itemId", (ctx) => {
      ctx.body = "item";
    });
    router.use("/api", api.routes());
    app.use(router.routes());
    return app.callback();
  };
}

/** The four frameworks every middleware scenario runs on. */
export const FRAMEWORKS: Framework[] = [
  { name: "Express 5", kind: "express", build: expressApp(express) },
  { name: "Express 4", kind: "express", build: expressApp(express4) },
  { name: "Koa 3", kind: "koa", build: koaApp(Koa) },
  { name: "Koa 2", kind: "koa", build: koaApp(Koa2) },
];
