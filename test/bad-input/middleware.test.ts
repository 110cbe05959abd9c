// Hostile or broken requests through the middleware, on Express and on Koa: each request gets
// the answer the app gives, its request event is safe (or, when it cannot be, only it is
// missing), and the requests around it are recorded untouched.
import { createServer, type RequestListener, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import express from "express";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EventsForwardOptions } from "../../src/index.js";
import { TRUNCATED_MARKER } from "../../src/http/request-privacy.js";
import { ULID } from "../helpers/row-format.js";
import { forwardTo, logged, type Harness } from "../helpers/forward-to.js";
import { TestStore, type Row } from "../helpers/test-store.js";
import { gate, waitFor } from "../helpers/wait.js";

interface Answer {
  status: number;
  body: string;
}

/** Sends raw bytes as one HTTP request on a fresh connection; resolves with the answer. */
function raw(port: number, text: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(Buffer.from(text, "latin1")));
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
  });
}

function get(path: string, headers: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, "Host: test", "Connection: close", ...headers, "", ""].join("\r\n");
}

type Framework = "express" | "koa";

/** Resolves when a /slow handler has started (the request reached the app), then renews itself. */
let slowStarted = gate();
function slowArrived(): void {
  const started = slowStarted;
  slowStarted = gate();
  started.open();
}

/** The same little app on either framework: /ok/:tag answers "ok", /throw throws, /slow waits. */
function app(framework: Framework, h: Harness): RequestListener {
  if (framework === "express") {
    const a = express();
    a.use(h.events);
    a.get("/ok/:tag", (_req, res) => {
      res.send("ok");
    });
    a.get("/throw", () => {
      throw new Error("handler bug");
    });
    a.get("/slow", (_req, res) => {
      slowArrived();
      setTimeout(() => res.send("late"), 300);
    });
    a.use((_req, res) => {
      res.send("ok");
    });
    return a;
  }
  const k = new Koa();
  k.silent = true;
  k.use(h.events as never);
  k.use(async (ctx) => {
    if (ctx.path === "/throw") throw new Error("handler bug");
    if (ctx.path === "/slow") {
      slowArrived();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    ctx.body = ctx.path === "/slow" ? "late" : "ok";
  });
  return k.callback();
}

interface Case {
  what: string;
  request: string;
  /** The app's answer; default 200 "ok". */
  status?: number;
  /** Checks the request event's properties. */
  check: (p: Record<string, unknown>) => void;
}

const CASES: Case[] = [
  {
    what: "a sane X-Request-Id is kept",
    request: get("/ok/x", ["X-Request-Id: req-123.abc"]),
    check: (p) => expect(p.request_id).toBe("req-123.abc"),
  },
  {
    what: "a 10 000-character X-Request-Id",
    request: get("/ok/x", [`X-Request-Id: ${"a".repeat(10_000)}`]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "an X-Request-Id with markup and quotes",
    request: get("/ok/x", [`X-Request-Id: <script>alert("x")</script>`]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "an X-Request-Id with spaces",
    request: get("/ok/x", ["X-Request-Id: a b c"]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "two X-Request-Id headers",
    request: get("/ok/x", ["X-Request-Id: one", "X-Request-Id: two"]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "an empty X-Request-Id",
    request: get("/ok/x", ["X-Request-Id: "]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "an X-Request-Id of high latin1 bytes",
    request: get("/ok/x", ["X-Request-Id: \xff\xfe\xe9"]),
    check: (p) => expect(p.request_id).toMatch(ULID),
  },
  {
    what: "a header with control characters (lenient parser): captured with U+FFFD",
    request: get("/ok/x", ["X-Trace: a\x01b\x7fc"]),
    check: (p) => expect(p.headers).toEqual({ "x-trace": "a\ufffdb\ufffdc" }),
  },
  {
    what: "a path with %00 and dot segments",
    request: get("/ok/a%00b%2f..%2f..%2fetc"),
    check: (p) => expect(p.path).toBe("/ok/a%00b%2f..%2f..%2fetc"),
  },
  {
    what: "an absolute-form URL with a query: no host confusion, no query",
    request: get("http://evil.example/ok/x?token=QUERY-SECRET"),
    check: (p) => {
      expect(String(p.path)).not.toContain("QUERY-SECRET");
      expect(String(p.path)).not.toContain("?");
    },
  },
  {
    what: "an 8 000-character path",
    request: get(`/ok/${"p".repeat(8_000)}`),
    check: (p) => expect(p.path).toBe(`/ok/${"p".repeat(1020)}${TRUNCATED_MARKER}`),
  },
  {
    what: "OPTIONS *",
    request: "OPTIONS * HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    check: (p) => expect(p).toMatchObject({ method: "OPTIONS", path: "*" }),
  },
  {
    what: "percent-encoded UTF-8 and a lone %",
    request: get("/misc/%E2%9C%93%"),
    check: (p) => expect(p.path).toBe("/misc/%E2%9C%93%"),
  },
  { what: "a handler that throws", request: get("/throw"), status: 500, check: (p) => expect(p.status).toBe(500) },
  {
    what: "a body the app never reads, sent with the wrong length header",
    request:
      'POST /ok/x HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
    check: (p) => expect(p).toMatchObject({ method: "POST", status: 200 }),
  },
  {
    what: "HTTP/1.0 without a Host header",
    request: "GET /ok/x HTTP/1.0\r\n\r\n",
    check: (p) => expect(p.status).toBe(200),
  },
  {
    what: "a forged X-Forwarded-For (no trust proxy): hashed like any IP, never stored",
    request: get("/ok/x", ["X-Forwarded-For: 203.0.113.9, <bad>, ::::"]),
    check: (p) => {
      expect(p.client_ip_hash).toMatch(/^[0-9a-f]{16}$/);
      expect(JSON.stringify(p)).not.toContain("203.0.113.9");
    },
  },
];

describe.each(["express", "koa"] as const)("%s", (framework) => {
  let store: TestStore;
  let h: Harness;
  let server: Server;
  let port: number;

  async function requestEvents(count: number): Promise<Row[]> {
    await waitFor(() => h.events.stats().queued + h.events.stats().sent >= count, { what: `${count} request events` });
    await h.events.flush();
    return [...store.table.values()].filter((row) => row.event === "request");
  }

  beforeAll(async () => {
    store = await new TestStore().start();
    const options: EventsForwardOptions = {
      requestEvents: true,
      captureHeaders: ["x-trace"],
      clientIpKey: "a-key-of-sixteen-chars",
      maxQueueSize: 1000,
    };
    h = forwardTo(store, options);
    server = createServer({ insecureHTTPParser: true }, app(framework, h));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await h.events.close({ timeoutMs: 100 });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.stop();
  });

  test(`the corpus has ${CASES.length} hostile requests`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  test.each(CASES.map((c, i) => [c.what, i] as const))("%s", async (_, i) => {
    const c = CASES[i]!;
    const before = store.table.size;
    expect((await raw(port, get(`/ok/before-${i}`))).status).toBe(200);
    const answer = await raw(port, c.request);
    expect(answer.status).toBe(c.status ?? 200);
    if (c.status === undefined) expect(answer.body).toContain("ok");
    expect((await raw(port, get(`/ok/after-${i}`))).status).toBe(200);
    const rows = (await requestEvents(before + 3))
      .slice(-3)
      .map((row) => JSON.parse(row.properties) as Record<string, unknown>);
    expect(rows.map((p) => p.path)).toEqual([`/ok/before-${i}`, expect.anything(), `/ok/after-${i}`]);
    expect(rows[0]).toMatchObject({ method: "GET", status: 200 });
    expect(rows[2]).toMatchObject({ method: "GET", status: 200 });
    c.check(rows[1]!);
  });

  test("a client that hangs up before the answer: the event says aborted, nothing breaks", async () => {
    const before = store.table.size;
    const handling = slowStarted.promise;
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(get("/slow"));
        // Hang up once the handler has the request, before its answer.
        void handling.then(() => socket.destroy());
      });
      socket.on("close", () => resolve());
    });
    const rows = await requestEvents(before + 1);
    expect(JSON.parse(rows.at(-1)!.properties)).toMatchObject({ path: "/slow", aborted: true });
    expect((await raw(port, get("/ok/after-abort"))).status).toBe(200);
  });

  test("nothing was dropped: the whole corpus back to back, every request recorded, none dropped or refused", async () => {
    const { sent, queued } = h.events.stats();
    const stored = [...store.table.values()].filter((row) => row.event === "request").length;
    for (const c of CASES) await raw(port, c.request);
    const rows = await requestEvents(sent + queued + CASES.length);
    // At least the corpus's own (a request of an earlier test may still come in meanwhile).
    expect(rows.length - stored).toBeGreaterThanOrEqual(CASES.length);
    expect(h.drops).toEqual([]);
    expect(h.events.stats()).toMatchObject({ dropped: 0, overflowed: 0 });
  });
});

describe("callbacks that misbehave never fail the request", () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await new TestStore().start();
  });

  afterAll(async () => {
    await store.stop();
  });

  async function serve(
    options: EventsForwardOptions,
    requests: number,
  ): Promise<{ h: Harness; rows: Record<string, unknown>[] }> {
    const h = forwardTo(store, { requestEvents: true, ...options });
    const server = createServer(app("express", h));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    for (let i = 0; i < requests; i++) expect((await raw(port, get(`/ok/${i}`))).status).toBe(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.events.close({ timeoutMs: 1_000 });
    return {
      h,
      rows: [...store.table.values()].map((row) => ({ ...row, properties: JSON.parse(row.properties) as unknown })),
    };
  }

  test("an actor() that throws: the event has no actor", async () => {
    store.table.clear();
    const { rows } = await serve(
      {
        actor: () => {
          throw new Error("no session store");
        },
      },
      2,
    );
    expect(rows.map((row) => row.actor_id)).toEqual([null, null]);
  });

  test("an actor() that returns an object: request events are left out, with one warning", async () => {
    store.table.clear();
    const { h, rows } = await serve({ actor: () => ({ id: 1 }) }, 3);
    expect(rows).toEqual([]);
    expect(logged(h, /request events cannot be recorded: .*actorId must be a string or a number/, "warn")).toHaveLength(
      1,
    );
  });

  test("a skip() that throws: the request is recorded, with a warning", async () => {
    store.table.clear();
    const { h, rows } = await serve(
      {
        skip: () => {
          throw new Error("skip bug");
        },
      },
      2,
    );
    expect(rows).toHaveLength(2);
    expect(logged(h, /option skip threw/, "warn")).toHaveLength(2);
  });
});
