/**
 * A floor for the request-path and throughput benchmarks: the least code that does events-forward's
 * job, to show what that job costs on this machine whoever writes it. On a Koa or Express request
 * it records the same two events (the request event when the response closes, and the handler's)
 * as the same Datasette rows (eight columns, the properties a JSON string with the request id in
 * it); put() records one outside a request. It sends them in the same batches (`batch` rows) through
 * undici, one request at a time. Each row is made at once, as a string:
 *   json    concatenation, and JSON.stringify for the properties column (twice: it is a JSON
 *           string of JSON), the cheapest way that is correct for any properties;
 *   concat  concatenation alone, every value taken to need no escaping (true of this benchmark's
 *           events, not of an app's): the least work that makes these bytes in JavaScript.
 *
 * It keeps none of events-forward's guarantees: no checks (a bad event throws into the request),
 * no size limits, no queue bound, no rate limit, no retry, no X-Request-Id, and ids that are
 * unique in the process only (the millisecond's text and a counter, not a ULID's random bits).
 * Whatever events-forward costs above it is the price of those guarantees and of its shape.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type Koa from "koa";
import { request } from "undici";

export interface FloorForwarder {
  /** An event outside any request (the throughput benchmark's). */
  put(event: { event: string; actorId?: string; properties?: Record<string, unknown> }): void;
  koa: Koa.Middleware;
  express: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  flush(): Promise<void>;
  stats(): { sent: number; overflowed: number; dropped: number };
}

/** What a handler calls: `ctx.events.put({ event, properties })`, the request's id added. */
class FloorEvents {
  constructor(
    private readonly forwarder: { row(event: string, actorJson: string, column: string): void },
    private readonly column: ColumnMaker,
    readonly requestId: string,
  ) {}

  put(event: { event: string; properties?: Record<string, unknown> }): void {
    this.forwarder.row(event.event, "null", this.column(event.properties ?? {}, this.requestId));
  }
}

/** The properties column's text, a JSON string: `"{\"a\":1,\"request_id\":\"…\"}"`. */
type ColumnMaker = (properties: Record<string, unknown>, requestId: string | undefined) => string;

const COLUMNS: Record<"json" | "concat", ColumnMaker> = {
  json(properties, requestId) {
    // The id added to the text rather than to a copy of the object.
    const json = JSON.stringify(properties);
    if (requestId === undefined) return JSON.stringify(json);
    const pair = `"request_id":"${requestId}"}`;
    return JSON.stringify(json.length === 2 ? `{${pair}` : `${json.slice(0, -1)},${pair}`);
  },
  concat(properties, requestId) {
    let text = '"{';
    let separator = "";
    for (const key in properties) {
      const value = properties[key];
      text += `${separator}\\"${key}\\":${typeof value === "string" ? `\\"${value}\\"` : String(value)}`;
      separator = ",";
    }
    if (requestId !== undefined) text += `${separator}\\"request_id\\":\\"${requestId}\\"`;
    return `${text}}"`;
  },
};

/** The benchmarks' names for the two floors, and how each makes its rows. */
export const FLOOR_ROWS: Record<string, "json" | "concat" | undefined> = { floor: "json", "floor-concat": "concat" };

/** `batch`: the rows one request to the store carries, as many as events-forward's in the same benchmark. */
export function floorForwarder(
  sinkUrl: string,
  instance: string,
  rowsBy: "json" | "concat",
  batch = 1000,
): FloorForwarder {
  const column = COLUMNS[rowsBy];
  const url = `${sinkUrl}/bench/-/insert`;
  const head = `","instance":${JSON.stringify(instance)},"event":`;
  let rows: string[] = [];
  let sending: Promise<void> = Promise.resolve();
  let sent = 0;
  let counter = 0;
  let lastMs = -1;
  let msText = "";
  let created = "";
  /** The first body is parsed once, here: the sink of the switched benchmark only drains. */
  let checked = false;

  function checkBody(body: string, count: number): void {
    checked = true;
    const parsed = JSON.parse(body) as { rows: Record<string, unknown>[] };
    const columns = "id,instance,event,created,actor_id,database_name,table_name,properties";
    for (const row of parsed.rows) {
      if (Object.keys(row).join(",") !== columns || typeof JSON.parse(row.properties as string) !== "object") {
        throw new Error(`the floor wrote a row that is not a Datasette row: ${JSON.stringify(row)}`);
      }
    }
    if (parsed.rows.length !== count) throw new Error(`the floor's body holds ${parsed.rows.length} rows of ${count}`);
  }

  const forwarder = {
    row(event: string, actorJson: string, propertiesColumn: string): void {
      const ms = Date.now();
      if (ms !== lastMs) {
        lastMs = ms;
        msText = ms.toString(32).padStart(10, "0");
        created = `${new Date(ms).toISOString().slice(0, -1)}000+00:00`;
      }
      const id = msText + (counter++).toString(32).padStart(16, "0");
      rows.push(
        `{"id":"${id}${head}${JSON.stringify(event)},"created":"${created}","actor_id":${actorJson},"database_name":null,"table_name":null,"properties":${propertiesColumn}}`,
      );
      if (rows.length >= batch) send();
    },
  };

  function send(): void {
    if (rows.length === 0) return;
    const body = `{"rows":[${rows.join(",")}]}`;
    const count = rows.length;
    rows = [];
    if (!checked) checkBody(body, count);
    sending = sending.then(async () => {
      const answer = await request(url, { method: "POST", body, headers: { "content-type": "application/json" } });
      await answer.body.dump();
      if (answer.statusCode < 300) sent += count;
    });
  }

  /** Gives the request its context and puts its request event when the response closes. */
  function begin(target: { events?: FloorEvents }, req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now();
    const context = new FloorEvents(forwarder, column, `r${counter}`);
    target.events = context;
    const { method, url = "/" } = req;
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    res.on("close", () => {
      const properties = {
        method,
        path,
        status: res.statusCode,
        duration_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
      };
      forwarder.row("request", "null", column(properties, context.requestId));
    });
  }

  return {
    put(event) {
      forwarder.row(
        event.event,
        event.actorId === undefined ? "null" : JSON.stringify(event.actorId),
        column(event.properties ?? {}, undefined),
      );
    },
    koa(ctx, next) {
      begin(ctx as unknown as { events?: FloorEvents }, ctx.req, ctx.res);
      return next();
    },
    express(req, res, next) {
      begin(req as IncomingMessage & { events?: FloorEvents }, req, res);
      next();
    },
    flush() {
      send();
      return sending;
    },
    stats: () => ({ sent, overflowed: 0, dropped: 0 }),
  };
}
