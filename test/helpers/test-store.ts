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
  /** Date.now() when the request's body was complete. */
  at: number;
  rows: Row[];
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A loopback HTTP server that speaks enough of Datasette's write API for fault injection: it
 * keeps rows by id like a table with `"ignore": true` would, and does what `behave` says per request.
 * Given an `upstream` (a real Datasette's origin), it is a fault-injecting proxy instead: "write"
 * means forward the request there (its table is then what passed through, the real one is upstream).
 */
export class TestStore {
  /** Every request that reached the handler, in order. */
  readonly requests: SeenRequest[] = [];
  /** The table: rows by id, the first write wins (as with "ignore": true). */
  readonly table = new Map<string, Row>();
  /** How many times each id was written (more than 1: the wire carried a duplicate). */
  readonly writes = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  behave: (request: SeenRequest, index: number) => Behaviour = () => ({ accept: true });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(private readonly upstream?: string) {}

  /** Starts listening; on the same port as before when restarted. */
  async start(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on("close", () => this.inFlight--);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let rows: Row[] = [];
        try {
          rows = (JSON.parse(body) as { rows: Row[] }).rows;
        } catch {
          rows = [];
        }
        const seen: SeenRequest = { at: Date.now(), rows, headers: req.headers, body };
        this.requests.push(seen);
        this.act(this.behave(seen, this.requests.length - 1), seen, req.url ?? "/", res).catch((error: unknown) => {
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

  url(path = "/data/-/create"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The `event` names in the table, in the order they were first written. */
  events(): string[] {
    return [...this.table.values()].map((row) => row.event);
  }

  /** Writes the rows here, or forwards the request upstream; resolves with the answer to relay. */
  private async write(seen: SeenRequest, path: string): Promise<{ status: number; body: string }> {
    if (this.upstream === undefined) {
      this.keep(seen.rows);
      return { status: 201, body: JSON.stringify({ ok: true }) };
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (seen.headers.authorization !== undefined) headers.authorization = seen.headers.authorization;
    const answer = await request(`${this.upstream}${path}`, { method: "POST", headers, body: seen.body });
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

  private async act(behaviour: Behaviour, seen: SeenRequest, path: string, res: ServerResponse): Promise<void> {
    if ("accept" in behaviour) {
      const answer = await this.write(seen, path);
      const relay = () => {
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(answer.body);
      };
      if (behaviour.delayMs) this.later(behaviour.delayMs, relay);
      else relay();
    } else if ("status" in behaviour) {
      res.writeHead(behaviour.status, { "content-type": "application/json", ...behaviour.headers });
      res.end(behaviour.body ?? JSON.stringify({ ok: false, errors: [`test store says ${behaviour.status}`], status: behaviour.status }));
    } else if ("hangMs" in behaviour) {
      this.later(behaviour.hangMs, () => res.destroy());
    } else if ("resetAfterWrite" in behaviour) {
      await this.write(seen, path);
      // Promise a body, send a piece of it, then cut the connection.
      res.socket?.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":');
      res.socket?.destroy();
    } else {
      res.socket?.destroy();
    }
  }
}
