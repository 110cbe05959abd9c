/**
 * A loopback store that accepts everything: answers every POST with 201 and counts the events
 * in it. Every contender's body is JSON.parse'd (gunzipped first if it says so) and its event
 * array counted: `rows` (Datasette) or `batch` (PostHog, Segment); so all pay the same parse.
 * Runs as its own process (forked by startSink) so its work does not land on the measured one.
 * With the argument `drain` it only reads the bodies (for the request-overhead benchmark, where
 * the store's parsing would take CPU from the app being measured); `events` then stays 0.
 * GET /stats answers {events, requests, bytes}; GET /reset zeroes them.
 */
import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";

const parse = process.argv[2] !== "drain";
let events = 0;
let requests = 0;
let bytes = 0;
let badBodies = 0;

const server = createServer((req, res) => {
  if (req.method === "GET") {
    if (req.url === "/reset") events = requests = bytes = badBodies = 0;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ events, requests, bytes, badBodies }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => {
    if (parse) chunks.push(chunk);
    else bytes += chunk.length;
  });
  req.on("end", () => {
    if (!parse) {
      requests++;
      res.writeHead(201, { "content-type": "application/json" });
      res.end('{"ok":true}');
      return;
    }
    let body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    bytes += body.length;
    requests++;
    try {
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const parsed = JSON.parse(body.toString("utf8")) as { rows?: unknown[]; batch?: unknown[] };
      events += (parsed.rows ?? parsed.batch ?? []).length;
    } catch {
      badBodies++;
    }
    res.writeHead(201, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send!({ port: typeof address === "object" && address !== null ? address.port : 0 });
});
process.on("disconnect", () => process.exit(0));
