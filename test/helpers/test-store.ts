import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { request } from "undici";
import type { AddressInfo, Socket } from "node:net";

/** One row as the Datasette sink sends it. */
export interface Row {
  id: string;
  event: string;
  properties: string;
  [column: string]: unknown;
}

/** A row as it arrived, with `properties` parsed for convenience and the row itself as `raw`. */
export interface ArrivedRow {
  id: string;
  event: string;
  actor_id: string | null;
  properties: Record<string, unknown>;
  raw: Row;
}

/** What the test store does with one request. */
export type Behaviour =
  /** Write the rows and answer 201 (the default); with an upstream, forward and relay its answer. */
  | { accept: true; delayMs?: number }
  /** Answer with this status and write nothing. */
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Write nothing and answer only after this long (a store too slow for the client's timeout). */
  | { hangMs: number }
  /** Write the rows, start the answer, then reset the connection mid-response. */
  | { resetAfterWrite: true }
  /** Reset the connection without writing anything. */
  | { resetBeforeWrite: true };

export interface SeenRequest {
  method: string;
  /** The request's path (with its query, if any). */
  path: string;
  /** Date.now() when the request's body was complete. */
  at: number;
  /** performance.now() when the request arrived (before its body was read): for measuring gaps. */
  arrivedAt: number;
  /** The client's port: requests over one keep-alive connection share it. */
  remotePort: number | undefined;
  /** The rows of a Datasette write body ([] if the body is not one). */
  rows: Row[];
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with in full (undefined while held, hanging, or if the connection was reset). */
  status?: number;
}

/**
 * A loopback HTTP server that speaks enough of Datasette's write API to play the store in tests:
 * it records every request, keeps rows by id like a table with `"ignore": true` would, and does
 * what `behave` says per request (which may return a promise to hold the answer).
 * Given an `upstream` (a real Datasette's origin), it is a fault-injecting proxy instead: "write"
 * means forward the request there (its table is then what passed through, the real one is upstream).
 */
export class TestStore {
  /** Every request that reached the handler with a complete body, in order. */
  readonly requests: SeenRequest[] = [];
  /** The table: rows by id, the first write wins (as with "ignore": true). */
  readonly table = new Map<string, Row>();
  /** How many times each id was written (more than 1: the wire carried a duplicate). */
  readonly writes = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  behave: (request: SeenRequest, index: number) => Behaviour | Promise<Behaviour> = () => ({ accept: true });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(private readonly upstream?: string) {}

  /** Starts listening; on the same port as before when restarted. */
  async start(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      const arrivedAt = performance.now();
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on("close", () => this.inFlight--);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const seen: SeenRequest = {
          method: req.method ?? "",
          path: req.url ?? "/",
          at: Date.now(),
          arrivedAt,
          remotePort: req.socket.remotePort,
          rows: rowsIn(body),
          headers: req.headers,
          body,
        };
        const index = this.requests.push(seen) - 1;
        this.answer(seen, index, res).catch((error: unknown) => {
          res.writeHead(502).end(`test store: ${(error as Error).message}`);
        });
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts every connection: the store is down (connection refused). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** A write API URL on this server, `/data/-/create` by default. */
  url(path = "/data/-/create"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The `event` names in the table, in the order they were first written. */
  events(): string[] {
    return [...this.table.values()].map((row) => row.event);
  }

  /** Rows of the requests answered with a 2xx, in arrival order: a row sent twice shows twice. */
  deliveredRows(): ArrivedRow[] {
    return this.requests
      .filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300)
      .flatMap((r) => rowsOf(r.body));
  }

  /** Writes the rows here, or forwards the request upstream; resolves with the answer to relay. */
  private async write(seen: SeenRequest): Promise<{ status: number; body: string }> {
    if (this.upstream === undefined) {
      this.keep(seen.rows);
      return { status: 201, body: JSON.stringify({ ok: true }) };
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (seen.headers.authorization !== undefined) headers.authorization = seen.headers.authorization;
    const answer = await request(`${this.upstream}${seen.path}`, { method: "POST", headers, body: seen.body });
    const body = await answer.body.text();
    if (answer.statusCode >= 200 && answer.statusCode < 300) this.keep(seen.rows);
    return { status: answer.statusCode, body };
  }

  private keep(rows: Row[]): void {
    for (const row of rows) {
      this.writes.set(row.id, (this.writes.get(row.id) ?? 0) + 1);
      if (!this.table.has(row.id)) this.table.set(row.id, row);
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async answer(seen: SeenRequest, index: number, res: ServerResponse): Promise<void> {
    const behaviour = await this.behave(seen, index);
    const send = (status: number, headers: Record<string, string> | undefined, body: string) => {
      // A held answer may be let go after the connection was cut: then it was never answered.
      if (res.destroyed) return;
      seen.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };
    if ("accept" in behaviour) {
      const answer = await this.write(seen);
      const relay = () => send(answer.status, undefined, answer.body);
      if (behaviour.delayMs) this.later(behaviour.delayMs, relay);
      else relay();
    } else if ("status" in behaviour) {
      send(
        behaviour.status,
        behaviour.headers,
        behaviour.body ??
          JSON.stringify({ ok: false, errors: [`test store says ${behaviour.status}`], status: behaviour.status }),
      );
    } else if ("hangMs" in behaviour) {
      this.later(behaviour.hangMs, () => res.destroy());
    } else if ("resetAfterWrite" in behaviour) {
      await this.write(seen);
      // Promise a body, send a piece of it, then cut the connection.
      res.socket?.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":');
      res.socket?.destroy();
    } else {
      res.socket?.destroy();
    }
  }
}

/** The rows of a Datasette write body, or [] if it is not one (the store must answer anything). */
function rowsIn(body: string): Row[] {
  try {
    return (JSON.parse(body) as { rows: Row[] }).rows;
  } catch {
    return [];
  }
}

/** The rows of a Datasette write body with `properties` parsed; throws if the body is not one. */
export function rowsOf(body: string): ArrivedRow[] {
  return (JSON.parse(body) as { rows: Row[] }).rows.map((raw) => ({
    id: raw.id,
    event: raw.event,
    actor_id: raw.actor_id as string | null,
    properties: JSON.parse(raw.properties) as Record<string, unknown>,
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
