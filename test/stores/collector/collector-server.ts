import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach } from "vitest";
import {
  eventsForward,
  type CollectorOptions,
  type CollectorEvent,
  type EventsForward,
  type EventsForwardOptions,
} from "../../../src/index.js";

/** One request as the test collector received it. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as it came over the wire (gzip). */
  raw: Buffer;
  /** The body gunzipped, as text. */
  text: string;
  /** Date.now() when the body had fully arrived. */
  at: number;
}

/** How the test collector answers request number `index` (0-based): a status, or misbehaviour. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang" | "reset";
export type Responder = (request: Received, index: number) => Answer;

export interface TestCollector {
  /** `127.0.0.1:<port>`, for option collector.hostname. */
  host: string;
  requests: Received[];
  respond: Responder;
  close(): Promise<void>;
}

/** A small baseplate-style collector on a free loopback port that records every request. */
export async function startCollector(respond: Responder = () => ({ status: 200 })): Promise<TestCollector> {
  const requests: Received[] = [];
  const collector: TestCollector = { host: "", requests, respond, close: () => closeServer(server) };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let text: string;
      try {
        text = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      } catch (error) {
        text = `<<not gzip: ${(error as Error).message}>>`;
      }
      const received: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        raw,
        text,
        at: Date.now(),
      };
      requests.push(received);
      const answer = collector.respond(received, requests.length - 1);
      if (answer === "hang") return;
      if (answer === "reset") {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  collector.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return collector;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Checks X-Signature on its own terms: `key=<name>, mac=<hex>` with hex the HMAC-SHA256 of
 * `body` keyed with the base64-decoded secret.
 */
export function signatureMatches(
  header: string | string[] | undefined,
  body: Buffer,
  keyName: string,
  secretBase64: string,
): boolean {
  const match = typeof header === "string" ? /^key=([^,\s]+), mac=([0-9a-f]{64})$/.exec(header) : null;
  if (match === null || match[1] !== keyName) return false;
  const expected = createHmac("sha256", Buffer.from(secretBase64, "base64")).update(body).digest();
  return timingSafeEqual(Buffer.from(match[2]!, "hex"), expected);
}

/** A random signing key, base64 as a publisher config holds it. */
export function randomKeyBase64(): string {
  return randomBytes(32).toString("base64");
}

/** Forwarder options with the collector's own merged over the file's (see useCollector). */
export type CollectorForwarderOptions = Omit<EventsForwardOptions, "collector"> & {
  collector?: Partial<CollectorOptions>;
};

/** The live handle of a collector test file: what each test reads and starts. */
export interface CollectorTest {
  /** This test's collector: started before the test, closed after it. */
  readonly collector: TestCollector;
  /** The signing key (base64) of every forwarder the file starts. */
  readonly secret: string;
  /**
   * An eventsForward() to this test's collector (over http, key "k" and `secret`), closed after
   * the test: the file's defaults, then `options`; `collector` options merge over the file's.
   */
  start(options?: CollectorForwarderOptions): EventsForward<CollectorEvent>;
}

/**
 * The one preamble of a collector test file: `const t = useCollector(defaults);`. Before each
 * test a fresh collector starts; after it every forwarder the test started is closed, then the
 * collector.
 */
export function useCollector(defaults: CollectorForwarderOptions = {}): CollectorTest {
  const secret = randomKeyBase64();
  let collector: TestCollector | undefined;
  const forwarders: EventsForward<CollectorEvent>[] = [];
  beforeEach(async () => {
    collector = await startCollector();
  });
  afterEach(async () => {
    await Promise.all(forwarders.splice(0).map((events) => events.close({ timeoutMs: 1_000 })));
    await collector?.close();
  });
  const t: CollectorTest = {
    get collector() {
      if (!collector) throw new Error("the collector starts before each test: use t.collector inside a test");
      return collector;
    },
    secret,
    start(options = {}) {
      const own = { ...defaults.collector, ...options.collector };
      // A collector.url stands instead of hostname and scheme.
      const at = own.url === undefined ? { hostname: t.collector.host, scheme: "http" as const } : {};
      const events = eventsForward({
        logger: false,
        ...defaults,
        ...options,
        collector: { ...at, keyName: "k", keySecret: secret, ...own },
      });
      forwarders.push(events);
      return events;
    },
  };
  return t;
}
