import type { ServerResponse } from "node:http";
import { expressObjectsNeedDictionaryMode, toDictionaryMode } from "./express-objects.js";
import type { AppRequest } from "../config/options.js";
import type { RequestRecorder } from "./request-recorder.js";

type Next = (error?: unknown) => unknown;

/**
 * One function that Express (req, res, next) and Koa (ctx, next) both accept: Express passes
 * three arguments, Koa two. `expressDictionaryMode`: switch Express's req and res to dictionary
 * mode where V8 needs it (express-objects.ts).
 */
export function createMiddleware(
  recorder: RequestRecorder,
  settings: { expressDictionaryMode: boolean; requestPath: "path" | "route" | false },
) {
  const dictionaryMode = settings.expressDictionaryMode && expressObjectsNeedDictionaryMode();
  const routeOf = settings.requestPath === "route" ? expressRouteAlone : expressRoute;

  return function eventsMiddleware(first: AppRequest, second: AppRequest, third?: Next): unknown {
    if (typeof third === "function") {
      const req = first;
      if (dictionaryMode) {
        // First, so that the middleware's own writes below are cheap too.
        toDictionaryMode(req);
        toDictionaryMode(second);
      }
      recorder.attach(req, req, second as ServerResponse, routeOf);
      return third();
    }
    const ctx = first;
    recorder.attach(ctx, ctx?.req, ctx?.res, koaRoute);
    return (second as Next)();
  };
}

/** Koa's routers (@koa/router, koa-router) leave the pattern that matched on the context. */
function koaRoute(ctx: AppRequest): string | undefined {
  return ctx._matchedRoute ?? ctx.routerPath;
}

/**
 * requestPath "route": the pattern of the route that answered alone. Express keeps the path a
 * router was mounted at only as it matched (`/users/42` for `app.use("/users/:id", router)`), so
 * it is left out rather than record a value of the URL.
 */
function expressRouteAlone(req: AppRequest): string | undefined {
  const path = req.route?.path;
  return typeof path === "string" ? path : undefined;
}

/** Express knows the route pattern once a route matched: baseUrl (mounted routers) + route.path. */
function expressRoute(req: AppRequest): string | undefined {
  const path = req.route?.path;
  if (typeof path !== "string") return undefined;
  return `${req.baseUrl ?? ""}${path}`;
}
