import { createServer, type Server } from "node:http";
import { afterAll } from "vitest";
import type { Child } from "./child.js";
import { DatasetteServer } from "./datasette.js";
import { forward, listenOnLoopback, readAll } from "./lossy-proxy.js";
import { eachFile } from "./servers.js";

/** One request through the proxy. */
export interface RecordedRequest {
  /** When it arrived and when its answer was relayed (Date.now()); `end` undefined while held. */
  start: number;
  end?: number;
  body: string;
  /** The client's port: requests over one connection share it. */
  clientPort?: number;
  status?: number;
  /** Forwarded and answered upstream, but the answer was never relayed. */
  held: boolean;
}

export interface RecordingProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The most requests that were in flight through the proxy at one moment. */
  readonly maxInFlight: number;
  /**
   * The next request is forwarded (the upstream writes it) but its answer is held back: never
   * relayed, unless `release()` is called.
   */
  holdNext(): { release(): void };
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a real server that records every request (body, arrival,
 * answer) and how many were in flight at once; it can hold one answer back, so the client's
 * request stays in flight although the upstream has done the work.
 */
export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let hold: Promise<void> | undefined;
  const server: Server = createServer((req, res) => {
    const record: RecordedRequest = { start: Date.now(), body: "", held: false, clientPort: req.socket.remotePort };
    requests.push(record);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    void (async () => {
      record.body = (await readAll(req)).toString();
      const answer = await forward(target, req, Buffer.from(record.body));
      record.status = answer.status;
      if (hold !== undefined) {
        const released = hold;
        hold = undefined;
        record.held = true;
        res.once("close", () => inFlight--);
        await released; // meanwhile the client waits, gives up, or dies
        if (res.destroyed) return;
        record.end = Date.now();
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      }
      inFlight--;
      record.end = Date.now();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })().catch((error: Error) => {
      inFlight--;
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy error: ${error.message}`);
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    holdNext: () => {
      let release = () => {};
      hold = new Promise((resolve) => (release = resolve));
      return { release };
    },
    close,
  };
}

/** The row ids a Datasette write request carried. */
export function rowIds(body: string): string[] {
  return (JSON.parse(body) as { rows: Array<{ id: string }> }).rows.map((row) => row.id);
}

/**
 * The proxy sees arrival times, which lag the senders' start times by a varying delay: under a
 * full test run on two cores, up to ~310 ms was seen (a clean-clone CI run, Node 24). A fleet without a shared limit (two
 * publishers at once, or a new holder that forgot its predecessor's window) would put its rate
 * limit's worth more requests into one window: gaps far below this.
 */
export const ARRIVAL_JITTER_MS = 400;

/** The live handle of a test file whose child processes write to a real Datasette through a recording proxy. */
export interface ProxiedDatasetteFile {
  readonly ds: DatasetteServer;
  readonly proxy: RecordingProxy;
  /** The child processes the file starts: push each one; any still running is killed after the file. */
  readonly children: Child[];
}

/**
 * The one preamble of such a file: `const t = useProxiedDatasette();`. Datasette and the proxy
 * start before the file's tests; after them the children are killed and both stop.
 */
export function useProxiedDatasette(): ProxiedDatasetteFile {
  const ds = eachFile(
    "Datasette",
    () => DatasetteServer.start(),
    (server) => server.dispose(),
  );
  const proxy = eachFile(
    "The proxy",
    () => startRecordingProxy(ds().url),
    (started) => started.close(),
  );
  const children: Child[] = [];
  // Registered last, so it runs first: the children stop before the proxy and Datasette do.
  afterAll(() => {
    for (const child of children) child.process.kill("SIGKILL");
  });
  return {
    get ds() {
      return ds();
    },
    get proxy() {
      return proxy();
    },
    children,
  };
}
