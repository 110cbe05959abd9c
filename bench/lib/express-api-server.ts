/**
 * An Express app in its own process, for bench/express-dictionary.ts:
 *   node --import tsx express-api-server.ts <4|5> <bare|dictionary>
 * Two routes: GET / (hello world) and POST /api/users/:id/orders (a JSON body parser, an
 * authentication step, a mounted router with a route parameter and a query string, res.json), the
 * second closer to what an API does per request. `dictionary` first switches req and res to V8's
 * dictionary mode, as events-forward's middleware does on Node 20 and 22; nothing else differs.
 * Sends `{ port }` once listening and answers `cpu` with its CPU time and requests handled.
 */
import express5 from "express";
import express4 from "express4";
import { toDictionaryMode } from "../../src/http/express-objects.js";

const [version, variant] = process.argv.slice(2) as [string, string];
const express = version === "4" ? express4 : express5;
let handled = 0;

const app = express();
if (variant === "dictionary") {
  app.use((req, res, next) => {
    toDictionaryMode(req);
    toDictionaryMode(res);
    next();
  });
}
app.use((_req, _res, next) => {
  handled++;
  next();
});
app.get("/", (_req, res) => {
  res.send("hello world");
});
app.use(express.json());
app.use((req, _res, next) => {
  (req as express5.Request & { user?: { id: string | undefined } }).user = { id: req.get("x-user") };
  next();
});
const api = express.Router();
api.post("/users/:id/orders", (req, res) => {
  const user = (req as express5.Request & { user?: { id: string | undefined } }).user;
  res.status(201).json({
    id: req.params.id,
    user: user?.id,
    items: (req.body as { items: unknown[] }).items.length,
    coupon: req.query.coupon,
  });
});
app.use("/api", api);

const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
});
server.keepAliveTimeout = 60_000;
process.on("message", (message) => {
  if (message !== "cpu") return;
  const { user, system } = process.cpuUsage();
  process.send!({ cpu: user + system, handled });
});
process.on("disconnect", () => process.exit(0));
