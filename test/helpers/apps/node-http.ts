import type { IncomingMessage, ServerResponse } from "node:http";
import { putThrough, serveListener, type AppSpec, type Framework } from "./spec.js";

export const nodeFramework: Framework = {
  name: "node:http",
  routes: false,
  serve: (spec) => serveListener(nodeApp(spec), spec),
  pathOf: (req) => ((req as IncomingMessage).url ?? "/").split("?")[0]!,
  headerOf: (req, h) => (req as IncomingMessage).headers[h] as string | undefined,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** The same routes by hand; the forwarders wrap the handler, the first one outermost. */
function nodeApp(spec: AppSpec): Handler {
  const names = spec.names ?? ["events"];
  let handler: Handler = (req, res) => {
    if (spec.onClose) res.once("close", spec.onClose);
    if (spec.auth && typeof req.headers["x-user"] === "string" && req.headers["x-user"] !== "") {
      (req as IncomingMessage & { user: { id: string } }).user = { id: req.headers["x-user"] };
    }
    const path = (req.url ?? "/").split("?")[0]!;
    const user = /^\/users\/([^/]+)$/.exec(path);
    if (req.method === "GET" && user) {
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify(putThrough(req as unknown as Record<string, unknown>, names, user[1]!)));
    }
    if (req.method === "GET" && path === "/boom") return res.writeHead(500).end("boom");
    if (req.method === "GET" && path === "/health") return res.end("ok");
    if (req.method === "GET" && path === "/hang") return spec.onHang?.();
    if (req.method === "GET" && /^\/api\/items\/[^/]+$/.test(path)) return res.end("item");
    res.writeHead(404).end("not found");
  };
  for (const events of [...spec.forwarders].reverse()) handler = events.wrap(handler);
  return handler;
}
