import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import express from "express";
import request from "supertest";
import { describe, expect, test } from "vitest";
import { eventsForward, OptionError, type EventsForwardOptions } from "../src/index.js";
import { TRUNCATED_MARKER } from "../src/http/request-privacy.js";
import { isLoopbackHost } from "../src/core/transport-security.js";
import { useLoopbackStore } from "./helpers/forward-to.js";
import type { Row } from "./helpers/test-store.js";
import { waitFor } from "./helpers/wait.js";

const TOKEN = "dstok_SeCrEt-t0ken-d0-not-leak";
const IP_KEY = "ip-key-SeCrEt-0123456789";

const t = useLoopbackStore();

function optionError(options: EventsForwardOptions): OptionError {
  try {
    eventsForward({ logger: false, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error("no OptionError");
}

function properties(row: Row): Record<string, unknown> {
  return JSON.parse(row.properties) as Record<string, unknown>;
}

describe("a bearer token over plain http", () => {
  test("to another machine is refused at start-up, naming the option and the way out", () => {
    const error = optionError({ apiUrl: "http://datasette.example.com/data/-/create", apiToken: TOKEN });
    expect(error.option).toBe("apiUrl");
    expect(error.message).toContain("plain http to datasette.example.com");
    expect(error.message).toContain("allowInsecureHttp: true");
    expect(error.message).not.toContain(TOKEN);
  });

  test("to an address that only looks local is refused too", () => {
    for (const host of ["10.0.0.5", "0.0.0.0", "[::]", "localhost.example.com", "127.0.0.1.nip.io", "[fe80::1]"]) {
      expect(optionError({ apiUrl: `http://${host}/data/-/create`, apiToken: TOKEN }).option).toBe("apiUrl");
    }
  });

  test("is allowed with allowInsecureHttp: true", async () => {
    const events = eventsForward({
      apiUrl: "http://datasette.internal/data/-/create",
      apiToken: TOKEN,
      allowInsecureHttp: true,
      logger: false,
    });
    await events.close();
  });

  test("is allowed to loopback, over https, and without a token", async () => {
    const ok: EventsForwardOptions[] = [
      { apiUrl: "http://localhost:8001/data/-/create", apiToken: TOKEN },
      { apiUrl: "http://127.0.0.1:8001/data/-/create", apiToken: TOKEN },
      { apiUrl: "http://127.8.9.10:8001/data/-/create", apiToken: TOKEN },
      { apiUrl: "http://[::1]:8001/data/-/create", apiToken: TOKEN },
      { apiUrl: "https://datasette.example.com/data/-/create", apiToken: TOKEN },
      { apiUrl: "http://datasette.example.com/data/-/create" },
    ];
    for (const options of ok) await eventsForward({ ...options, logger: false }).close();
  });

  test("a collector key is refused over plain http to another machine too, and allowed on loopback", async () => {
    const key = Buffer.from("collector-signing-key").toString("base64");
    const remote = optionError({
      collector: { hostname: "events.example.com", scheme: "http", keyName: "k", keySecret: key },
    });
    expect(remote.option).toBe("collector");
    expect(remote.message).not.toContain(key);
    expect(optionError({ collector: { url: "http://10.1.2.3/v2", keyName: "k", keySecret: key } }).option).toBe(
      "collector",
    );
    await eventsForward({
      collector: { hostname: "events.example.com", scheme: "http", keyName: "k", keySecret: key },
      allowInsecureHttp: true,
      logger: false,
    }).close();
    await eventsForward({
      collector: { url: `http://127.0.0.1:${t.store.port}/v1`, keyName: "k", keySecret: key },
      logger: false,
    }).close();
  });

  test("allowInsecureHttp must be a boolean", () => {
    expect(optionError({ apiUrl: t.store.url(), allowInsecureHttp: "yes" as never }).option).toBe("allowInsecureHttp");
  });

  test("isLoopbackHost knows the loopback forms URL.hostname gives", () => {
    for (const host of ["localhost", "LOCALHOST", "127.0.0.1", "127.255.0.1", "[::1]", "[::ffff:7f00:1]"])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["example.com", "128.0.0.1", "[::2]", "[::]", "0.0.0.0", "foo.localhost", ""])
      expect(isLoopbackHost(host)).toBe(false);
  });
});

test("the token and the IP key appear in no log, error, stats, drop or delivered event", async () => {
  // The store echoes the request's Authorization header in its error pages, like a debug proxy;
  // the first page twice (every occurrence must go, not the first).
  let calls = 0;
  t.store.behave = (seen) => {
    calls++;
    const authorization = String(seen.headers.authorization);
    if (calls === 1)
      return {
        status: 500,
        body: `<pre>upstream failed; request had authorization: ${authorization}\nretry with authorization: ${authorization}</pre>`,
      };
    if (calls === 2)
      return { status: 400, body: JSON.stringify({ ok: false, errors: [`bad token ${authorization}`] }) };
    return { accept: true };
  };
  const h = t.forward({ apiToken: TOKEN, clientIpKey: IP_KEY, requestEvents: true, maxAttempts: 2, batchLimit: 100 });
  const errors: unknown[] = [];
  const app = express();
  app.use(h.events);
  app.get("/x", (req, res) => {
    try {
      req.events.put({ event: "bad", properties: { n: 10n } });
    } catch (error) {
      errors.push(error);
    }
    req.events.put({ event: "fine" });
    res.send("ok");
  });
  await request(app)
    .get("/x?api_token=QUERY-SECRET")
    .set("authorization", "Bearer CLIENT-SECRET")
    .set("cookie", "sid=COOKIE-SECRET")
    .expect(200);
  await waitFor(() => h.events.stats().queued === 2, { what: "the request event" }); // "fine" and "request"
  await h.events.flush(); // 500 (echo), then 400 (echo: split), then success
  h.events.put({ event: "later" });
  await h.events.flush();
  for (const options of [
    { apiToken: { $env: "NO_SUCH_VARIABLE_FOR_TEST" } },
    { apiToken: TOKEN, batchLimit: -1 },
    { apiToken: TOKEN, apiUrl: "http://example.com/d/-/create" },
  ]) {
    try {
      eventsForward({ apiUrl: t.store.url(), clientIpKey: IP_KEY, logger: false, ...options });
    } catch (error) {
      errors.push(error);
    }
  }
  const closed = await h.events.close({ timeoutMs: 100 });

  // The echo reached the reasons, with the token cut out.
  expect(h.logger.messages.join("\n")).toContain(
    "authorization: Bearer [redacted]\nretry with authorization: Bearer [redacted]",
  );
  expect(errors).toHaveLength(4);
  const everything = [
    h.logger.messages.join("\n"),
    ...errors.map((e) => `${(e as Error).name}: ${(e as Error).message} ${inspect(e)}`),
    JSON.stringify(h.events.stats()),
    JSON.stringify(closed),
    JSON.stringify(h.drops),
    ...t.store.requests.map((r) => r.body),
    inspect(h.events, { depth: 5 }),
  ].join("\n");
  for (const secret of [TOKEN, IP_KEY, "CLIENT-SECRET", "COOKIE-SECRET", "QUERY-SECRET"])
    expect(everything).not.toContain(secret);
  // ...and the scan saw real material: the delivered request event is among it.
  expect(t.store.events()).toEqual(expect.arrayContaining(["request", "fine", "later"]));
});

describe("request events", () => {
  async function recordOne(
    options: EventsForwardOptions,
    configure?: (app: express.Express) => void,
  ): Promise<Record<string, unknown>> {
    const h = t.forward({ requestEvents: true, ...options });
    const app = express();
    configure?.(app);
    app.use(h.events);
    app.post("/things/:id", (_req, res) => {
      res.cookie("sid", "SET-COOKIE-SECRET").send("ok");
    });
    await request(app)
      .post("/things/42?q=secret-query")
      .set("authorization", "Bearer CLIENT-SECRET")
      .set("proxy-authorization", "Basic PROXY-SECRET")
      .set("cookie", "sid=COOKIE-SECRET")
      .set("user-agent", "test-agent/1.0")
      .set("x-forwarded-for", "203.0.113.7")
      .send({ password: "BODY-SECRET" })
      .expect(200);
    await waitFor(() => h.events.stats().queued === 1, { what: "the request event" });
    await h.events.flush();
    const row = [...t.store.table.values()].find((r) => r.event === "request")!;
    return properties(row);
  }

  test("record no headers, body, cookies, query or client IP by default", async () => {
    const p = await recordOne({});
    expect(Object.keys(p).sort()).toEqual(["duration_ms", "method", "path", "request_id", "route", "status"]);
    expect(p.path).toBe("/things/42");
    expect(JSON.stringify([...t.store.table.values()])).not.toMatch(/SECRET|secret-query|203\.0\.113\.7|test-agent/);
  });

  test("captureHeaders records only the named headers", async () => {
    const p = await recordOne({ captureHeaders: ["User-Agent", "x-absent"] });
    expect(p.headers).toEqual({ "user-agent": "test-agent/1.0" });
    expect(JSON.stringify(p)).not.toContain("SECRET");
  });

  test.each(["authorization", "Authorization", "cookie", "set-cookie", "proxy-authorization"])(
    "captureHeaders refuses %s at start-up",
    (name) => {
      const error = optionError({ apiUrl: t.store.url(), captureHeaders: ["user-agent", name] });
      expect(error.option).toBe("captureHeaders");
      expect(error.message).toContain("never recorded");
    },
  );

  test("clientIpKey records the client IP only as a truncated HMAC, as the framework sees the IP", async () => {
    const p = await recordOne({ clientIpKey: IP_KEY }, (app) => app.set("trust proxy", true));
    const expected = createHmac("sha256", IP_KEY).update("203.0.113.7").digest("hex").slice(0, 16);
    expect(p.client_ip_hash).toBe(expected);
    expect(JSON.stringify(p)).not.toContain("203.0.113.7");
  });

  test("without trust proxy, X-Forwarded-For is not believed", async () => {
    const p = await recordOne({ clientIpKey: IP_KEY });
    const forged = createHmac("sha256", IP_KEY).update("203.0.113.7").digest("hex").slice(0, 16);
    expect(p.client_ip_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(p.client_ip_hash).not.toBe(forged);
  });

  test("clientIpKey must be a secret of 16 characters or more", () => {
    expect(optionError({ apiUrl: t.store.url(), clientIpKey: "short" }).option).toBe("clientIpKey");
    expect(optionError({ apiUrl: t.store.url(), clientIpKey: 42 as never }).option).toBe("clientIpKey");
  });

  test("very long paths, routes and captured header values are cut with a marker", async () => {
    const h = t.forward({ requestEvents: true, captureHeaders: ["x-long"] });
    const app = express();
    app.use(h.events);
    app.get(/.*/, (_req, res) => {
      res.send("ok");
    });
    const longPath = "/" + "p".repeat(5000);
    await request(app).get(longPath).set("x-long", "v".repeat(5000)).expect(200);
    await waitFor(() => h.events.stats().queued === 1, { what: "the request event" });
    await h.events.flush();
    const p = properties([...t.store.table.values()][0]!);
    expect(p.path).toBe(longPath.slice(0, 1024) + TRUNCATED_MARKER);
    expect((p.headers as Record<string, string>)["x-long"]).toBe("v".repeat(512) + TRUNCATED_MARKER);
  });
});

describe("prototype pollution", () => {
  test("__proto__ and constructor in properties are data, not prototypes", async () => {
    const h = t.forward();
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "ok": 1}',
    ) as Record<string, unknown>;
    h.events.put({ event: "hostile", properties: hostile });
    await h.events.flush();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    const p = properties([...t.store.table.values()][0]!);
    expect(Object.prototype.hasOwnProperty.call(p, "__proto__")).toBe(true);
    expect(p.ok).toBe(1);
  });

  test.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "name %s is refused (req[name] would hit the prototype)",
    (name) => {
      expect(optionError({ apiUrl: t.store.url(), name }).option).toBe("name");
    },
  );

  test("a header named like a prototype property is captured as data", async () => {
    const h = t.forward({ requestEvents: true, captureHeaders: ["constructor"] });
    const app = express();
    app.use(h.events);
    app.get("/", (_req, res) => {
      res.send("ok");
    });
    await request(app).get("/").set("constructor", "x").expect(200);
    await waitFor(() => h.events.stats().queued === 1, { what: "the request event" });
    await h.events.flush();
    const p = properties([...t.store.table.values()][0]!);
    expect(p.headers).toEqual({ constructor: "x" });
    expect(typeof ({} as { constructor: unknown }).constructor).toBe("function");
  });
});
