/**
 * A loopback store that accepts everything: answers every POST with 201 once it has read the
 * body, and counts the events in it. Every contender's body is JSON.parse'd (gunzipped first if
 * it says so) and its event array counted: `rows` (Datasette) or `batch` (PostHog, Segment); so
 * all pay the same. Runs as its own process (forked by startSink), so its work does not land on
 * the measured one. The argument picks when it counts:
 *   parse  as each body arrives;
 *   store  only keeps the bodies and counts them when asked (GET /stats), so that parsing does
 *          not slow down a throughput run (one request in flight waits for the answer);
 *   drain  never: reads and forgets (request overhead, where events-forward's stats are checked).
 * GET /stats answers {events, requests, bytes, badBodies}; GET /reset zeroes them.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { gunzipSync } from "node:zlib";

const mode = process.argv[2] ?? "parse";
let events = 0;
let requests = 0;
let bytes = 0;
let badBodies = 0;
let stored: { body: Buffer; headers: IncomingHttpHeaders }[] = [];

function count(body: Buffer, headers: IncomingHttpHeaders): void {
  try {
    const text = (headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8");
    const parsed = JSON.parse(text) as { rows?: unknown[]; batch?: unknown[] };
    events += (parsed.rows ?? parsed.batch ?? []).length;
  } catch {
    badBodies++;
  }
}

const server = createServer((req, res) => {
  if (req.method === "GET") {
    if (req.url === "/reset") {
      events = requests = bytes = badBodies = 0;
      stored = [];
    }
    for (const { body, headers } of stored) count(body, headers);
    stored = [];
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ events, requests, bytes, badBodies }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (mode !== "drain") chunks.push(chunk);
  });
  req.on("end", () => {
    requests++;
    if (mode !== "drain") {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (mode === "store") stored.push({ body, headers: req.headers });
      else count(body, req.headers);
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
