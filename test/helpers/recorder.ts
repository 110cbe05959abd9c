import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the recording store saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived (before its body was read). */
  arrivedAt: number;
  /** The client's port: requests over one keep-alive connection share it. */
  remotePort: number | undefined;
  /** The status it was answered with (undefined while held or if never answered). */
  status?: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** Chooses the answer to a request; may return a promise to hold the response. */
export type Responder = (request: RecordedRequest, index: number) => Answer | Promise<Answer>;

/** A Datasette-shaped row as it arrived, with `properties` parsed for convenience. */
export interface ArrivedRow {
  id: string;
  event: string;
  actor_id: string | null;
  properties: Record<string, unknown>;
  raw: Record<string, unknown>;
}

/**
 * A small loopback HTTP server standing in for the store's write API: it records every
 * request (body, headers, arrival time), counts how many are in flight at once, and answers
 * with whatever the test's responder chooses (201 by default).
 */
export class Recorder {
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  respond: Responder = () => ({ status: 201, body: '{"ok":true}' });
  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(respond?: Responder): Promise<Recorder> {
    let recorder!: Recorder;
    const server = createServer((req, res) => {
      const recorded: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: "", arrivedAt: performance.now(), remotePort: req.socket.remotePort };
      const index = recorder.requests.push(recorded) - 1;
      let open = true;
      const leave = () => {
        if (open) recorder.inFlight--;
        open = false;
      };
      recorder.inFlight++;
      recorder.maxInFlight = Math.max(recorder.maxInFlight, recorder.inFlight);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        recorded.body = Buffer.concat(chunks).toString("utf8");
        const answer = await recorder.respond(recorded, index);
        if (res.destroyed) return;
        recorded.status = answer.status;
        leave();
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(answer.body ?? "{}");
      });
      res.on("close", leave);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    recorder = new Recorder(server, `http://127.0.0.1:${port}`);
    if (respond) recorder.respond = respond;
    return recorder;
  }

  /** A write API URL on this server, `/data/-/create` by default. */
  url(path = "/data/-/create"): string {
    return `${this.origin}${path}`;
  }

  /** Rows from the requests that were answered with a 2xx, in arrival order. */
  deliveredRows(): ArrivedRow[] {
    return this.requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300).flatMap((r) => rowsOf(r.body));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function rowsOf(body: string): ArrivedRow[] {
  const parsed = JSON.parse(body) as { rows: Record<string, unknown>[] };
  return parsed.rows.map((raw) => ({
    id: raw.id as string,
    event: raw.event as string,
    actor_id: raw.actor_id as string | null,
    properties: JSON.parse(raw.properties as string) as Record<string, unknown>,
    raw,
  }));
}

/** A loopback URL where nothing listens: connections are refused. */
export async function unreachableUrl(path = "/data/-/create"): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

/** A promise with its resolve function outside, to hold a response until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
