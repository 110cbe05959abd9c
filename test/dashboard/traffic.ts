import express from "express";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Database from "../helpers/sqlite-file.js";
import { eventsForward, type EventsForward } from "../../src/index.js";
import { FAST } from "../helpers/fast-options.js";

/** One request the test sent, as the app answered it. */
export interface Sent {
  requestId: string;
  instance: string;
  method: string;
  route: string | undefined;
  path: string;
  status: number | null;
  aborted: boolean;
  actor: string | undefined;
  /** Custom events the handler put in this request. */
  events: string[];
}

/** A request as the table holds it, with what only the table knows: when, and how long. */
export interface Landed extends Sent {
  minute: string;
  created: string;
  durationMs: number;
  id: string;
}

export interface CustomLanded {
  id: string;
  name: string;
  instance: string;
  actor: string | null;
  requestId: string | null;
  minute: string;
  created: string;
}

export interface Traffic {
  requests: Landed[];
  custom: CustomLanded[];
}

/**
 * An Express app mounted with the embedded store (instance `instance`), with routes that answer
 * 200, 201, 302, 404 (no route), 500, slowly, and not at all (the client leaves).
 */
async function startApp(database: string, instance: string) {
  const events = eventsForward({ ...FAST, instance, database, batchWaitMs: 5 });
  const app = express();
  app.use(events);
  app.use((req, _res, next) => {
    const user = req.headers["x-user"];
    if (typeof user === "string") (req as unknown as { user: { id: string } }).user = { id: user };
    next();
  });
  /** Per request id: called when the handler starts, and once the response is closed. */
  const hooks = new Map<string, { entered(): void; left(): void }>();
  const hookOf = (req: express.Request) => hooks.get(req.headers["x-request-id"] as string);
  // The package's own 'close' listener was added first (by the middleware), so it has run by then.
  const waitForClose = (req: express.Request, res: express.Response) => res.once("close", () => hookOf(req)?.left());
  app.get("/items/:id", (_req, res) => {
    res.send("item");
  });
  app.post("/checkout", (req, res) => {
    req.events.put({ event: "checkout", properties: { total: 12 } });
    res.sendStatus(req.query.fail === "1" ? 500 : 201);
  });
  app.post("/signup", (req, res) => {
    req.events.put({ event: "signup", properties: { plan: "pro" } });
    req.events.put({ event: "welcome-mail", properties: {} });
    res.sendStatus(201);
  });
  app.get("/old", (_req, res) => res.redirect(302, "/items/1"));
  app.get("/slow/:ms", (req, res) => {
    setTimeout(() => res.send("slow"), Number(req.params.ms));
  });
  app.get("/boom/:id", (_req, res) => {
    res.sendStatus(503);
  });
  // Never answers: the client leaves first (aborted, no status).
  app.get("/hang", (req, res) => {
    waitForClose(req, res);
    hookOf(req)?.entered();
  });
  // Sends its headers, then waits: the client leaves mid-body (aborted, status 200).
  app.get("/stream", (req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("partial");
    waitForClose(req, res);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return { events, server, port: (server.address() as AddressInfo).port, hooks };
}

let counter = 0;

/** Sends one request; resolves when the app has seen it end (for aborts: when it saw the client leave). */
function send(
  app: Awaited<ReturnType<typeof startApp>>,
  method: string,
  path: string,
  options: { actor?: string; leave?: "before-headers" | "after-headers" } = {},
): Promise<string> {
  const requestId = `t${process.pid}-${++counter}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "x-request-id": requestId };
    if (options.actor !== undefined) headers["x-user"] = options.actor;
    const req = httpRequest({ host: "127.0.0.1", port: app.port, method, path, headers });
    if (options.leave !== undefined) {
      const leaveNow = options.leave === "before-headers" ? () => req.destroy() : () => {};
      app.hooks.set(requestId, { entered: leaveNow, left: () => setImmediate(() => resolve(requestId)) });
      req.on("error", () => {});
      if (options.leave === "after-headers") req.on("response", (res) => res.once("data", () => req.destroy()));
    } else {
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(requestId));
      });
      req.on("error", reject);
    }
    req.end();
  });
}

/**
 * The known mix, on two instances: every route above, several actors, custom events in
 * requests and one outside any, and two kinds of abort. Returns what landed in `database`.
 */
export async function sendTraffic(database: string, table = "datasette_events"): Promise<Traffic> {
  const sent: Sent[] = [];
  const outside: Array<{ name: string; instance: string; actor: string }> = [];
  const apps: Array<Awaited<ReturnType<typeof startApp>>> = [];
  try {
    for (const instance of ["web-1", "web-2"]) {
      const app = await startApp(database, instance);
      apps.push(app);
      const go = async (
        method: string,
        path: string,
        route: string | undefined,
        status: number | null,
        options: { actor?: string; leave?: "before-headers" | "after-headers"; events?: string[] } = {},
      ) => {
        const requestId = await send(app, method, path, options);
        sent.push({
          requestId,
          instance,
          method,
          route,
          path: path.split("?")[0]!,
          status,
          aborted: options.leave !== undefined,
          actor: options.actor,
          events: options.events ?? [],
        });
      };
      const n = instance === "web-1" ? 1 : 2;
      for (let i = 0; i < 6 * n; i++)
        await go("GET", `/items/${i}`, "/items/:id", 200, { actor: i % 3 === 0 ? "ann" : undefined });
      for (let i = 0; i < 3; i++)
        await go("POST", "/checkout", "/checkout", 201, { actor: "bob", events: ["checkout"] });
      for (let i = 0; i < n; i++)
        await go("POST", "/checkout?fail=1", "/checkout", 500, { actor: "bob", events: ["checkout"] });
      await go("POST", "/signup", "/signup", 201, { actor: "cat", events: ["signup", "welcome-mail"] });
      await go("GET", "/old", "/old", 302);
      await go("GET", "/nowhere", undefined, 404);
      for (const ms of [20, 40, 80]) await go("GET", `/slow/${ms * n}`, "/slow/:ms", 200);
      for (let i = 0; i < 2 * n; i++) await go("GET", `/boom/${i}`, "/boom/:id", 503, { actor: "ann" });
      await go("GET", "/hang", "/hang", null, { leave: "before-headers" });
      await go("GET", "/stream", "/stream", 200, { leave: "after-headers", actor: "cat" });
      app.events.put({ event: "nightly-job", actorId: "cron" });
      outside.push({ name: "nightly-job", instance, actor: "cron" });
    }
  } finally {
    for (const app of apps) {
      await new Promise((resolve) => app.server.close(resolve));
      await app.events.close({ timeoutMs: 5_000 });
    }
  }
  return landed(database, table, sent, outside.length);
}

/** Joins what was sent with the rows (by request_id): when each landed and how long it took. */
function landed(path: string, table: string, sent: Sent[], outsideCount: number): Traffic {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare(`SELECT * FROM "${table}" ORDER BY id`).all() as Array<Record<string, string | null>>;
    const requests: Landed[] = [];
    const custom: CustomLanded[] = [];
    const byRequest = new Map(sent.map((s) => [s.requestId, s]));
    for (const row of rows) {
      const properties = JSON.parse(row.properties!) as Record<string, unknown>;
      const minute = `${row.created!.slice(0, 16)}:00`;
      if (row.event === "request") {
        const s = byRequest.get(properties.request_id as string);
        if (s === undefined) throw new Error(`a request the test did not send: ${row.properties}`);
        requests.push({
          ...s,
          minute,
          created: row.created!,
          id: row.id!,
          durationMs: properties.duration_ms as number,
        });
      } else {
        custom.push({
          id: row.id!,
          name: row.event!,
          instance: row.instance!,
          actor: row.actor_id ?? null,
          requestId: (properties.request_id as string | undefined) ?? null,
          minute,
          created: row.created!,
        });
      }
    }
    const expectedCustom = sent.reduce((sum, s) => sum + s.events.length, 0) + outsideCount;
    if (requests.length !== sent.length || custom.length !== expectedCustom)
      throw new Error(
        `${requests.length}/${sent.length} requests and ${custom.length}/${expectedCustom} custom events landed`,
      );
    return { requests, custom };
  } finally {
    db.close();
  }
}
