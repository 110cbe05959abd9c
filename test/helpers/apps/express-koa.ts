import Router from "@koa/router";
import express from "express";
import Koa from "koa";
import type { RequestListener } from "node:http";
import { putThrough, serveListener, type AppSpec, type Framework } from "./spec.js";

export function expressFramework(name: string, make: typeof express): Framework {
  return {
    name,
    routes: true,
    serve: (spec) => serveListener(expressApp(make, spec), spec),
    pathOf: (r) => (r as express.Request).path,
    headerOf: (r, h) => (r as express.Request).get(h),
  };
}

export function koaFramework(name: string, Make: typeof Koa): Framework {
  return {
    name,
    routes: true,
    serve: (spec) => serveListener(koaApp(Make, spec), spec),
    pathOf: (r) => (r as Koa.Context).path,
    headerOf: (r, h) => (r as Koa.Context).get(h) || undefined,
  };
}

function expressApp(make: typeof express, spec: AppSpec): RequestListener {
  const app = make();
  app.set("env", "test"); // finalhandler stays quiet about the deliberate /boom error
  for (const events of spec.forwarders) app.use(events);
  app.use((_req, res, next) => {
    if (spec.onClose) res.once("close", spec.onClose);
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
  return app;
}

function koaApp(Make: typeof Koa, spec: AppSpec): RequestListener {
  const app = new Make();
  app.silent = true; // the deliberate /boom error is not worth a stack trace
  for (const events of spec.forwarders) app.use(events);
  app.use((ctx, next) => {
    if (spec.onClose) ctx.res.once("close", spec.onClose);
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
    ctx.body = putThrough(ctx, names, String(ctx.params.id));
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
}
