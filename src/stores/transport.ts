import type { Agent } from "undici";

/** What a store's POST got back: enough to classify it (pipeline/retry.ts). */
export interface HttpAnswer {
  status: number;
  retryAfter: string | undefined;
  /** The answer's body; leaving the loop early ends it (the connection is closed, not read on). */
  body: AsyncIterable<Uint8Array>;
}

export interface HttpPost {
  url: URL;
  headers: Record<string, string>;
  body: string | Uint8Array;
  signal: AbortSignal;
}

/**
 * How the stores' POSTs leave the process: undici's dispatcher where the real undici loads (Node,
 * Deno), else the runtime's own `fetch` (Bun, Cloudflare Workers, Vercel and Netlify edge
 * functions). `post()` throws what the client throws (a network error, an abort).
 */
export interface Transport {
  /** Resolves once the client is loaded and chosen: a request's timeout starts after it. */
  ready?(): Promise<void>;
  post(request: HttpPost): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/** Which client a transport chose: for the debug log and the tests. */
export type TransportName = "undici" | "fetch";

/**
 * The transport of one forwarder, chosen on first use (the first batch), not at import nor at
 * start-up: an app that never sends (the embedded store) never loads an HTTP client, and
 * `import("events-forward")` stays cheap (undici alone takes about 100 ms to load on Node).
 */
export function createTransport(choose: () => Promise<ChosenTransport> = chooseTransport): Transport & {
  /** The client chosen, once the first POST has chosen one. */
  readonly chosen: TransportName | undefined;
} {
  let ready: Promise<ChosenTransport> | undefined;
  let chosen: ChosenTransport | undefined;
  let closed = false;
  return {
    get chosen() {
      return chosen?.name;
    },
    async ready() {
      ready ??= choose().then((transport) => (chosen = transport));
      await ready;
    },
    async post(request) {
      ready ??= choose().then((transport) => (chosen = transport));
      return (await ready).post(request);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ready !== undefined) await (await ready).close();
    },
  };
}

export type ChosenTransport = Transport & { readonly name: TransportName };

// Not a literal: bundlers for Workers and edge functions (wrangler, Vercel, Netlify) leave it
// alone instead of pulling all of undici into the bundle, and the runtime then has no such module.
const UNDICI: string = "undici";

const loadUndici = (): Promise<{ Agent?: unknown } | undefined> =>
  import(/* webpackIgnore: true */ UNDICI).catch(() => undefined);

/** By what the runtime has (never by its name): a working undici, else the global fetch. */
export async function chooseTransport(load = loadUndici): Promise<ChosenTransport> {
  const undici = await load();
  // Bun answers `import("undici")` with a stand-in whose Agent has neither request() nor close().
  const Agent = undici?.Agent;
  if (isDispatcherClass(Agent)) return undiciTransport(Agent);
  if (typeof globalThis.fetch === "function") return fetchTransport();
  throw new Error("this runtime has neither undici nor fetch: events-forward cannot send to a store from here");
}

function isDispatcherClass(value: unknown): value is typeof Agent {
  const proto = (value as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  return typeof proto?.request === "function" && typeof proto.close === "function";
}

/** One keep-alive connection per forwarder: batches go one at a time, so one warm socket is enough. */
export function undiciTransport(AgentClass: typeof Agent): ChosenTransport {
  const agent = new AgentClass({ keepAliveTimeout: 30_000, connections: 1 });
  return {
    name: "undici",
    async post({ url, headers, body, signal }) {
      // Straight to the dispatcher: undici's request(url) re-parses the URL for every batch.
      const response = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "POST",
        headers,
        body,
        signal,
      });
      const retryAfter = response.headers["retry-after"];
      return {
        status: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        body: response.body,
      };
    },
    close: () => agent.close(),
  };
}

/** The runtime's fetch: keep-alive and connection reuse are the runtime's. */
export function fetchTransport(): ChosenTransport {
  return {
    name: "fetch",
    async post({ url, headers, body, signal }) {
      // A signal of its own, made beside the fetch: Workers tie an AbortSignal to the request that
      // made it, and the forwarder's batches go out from whichever request's waitUntil runs them.
      // `signal` is the caller's for this one request: the listener goes with it.
      const own = new AbortController();
      if (signal.aborted) own.abort();
      else signal.addEventListener("abort", () => own.abort(), { once: true });
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: body as BodyInit,
        signal: own.signal,
        redirect: "manual",
      });
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after") ?? undefined,
        body: (response.body ?? []) as AsyncIterable<Uint8Array>,
      };
    },
    close: async () => {},
  };
}
