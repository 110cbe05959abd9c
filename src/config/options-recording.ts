import { hostname } from "node:os";
import { OptionError } from "../core/errors.js";
import type { OptionSpec } from "../core/option-spec.js";
import type { BeforeSend } from "../row/before-send.js";
import type { Serializer } from "../row/event-input.js";
import { identifier, parseCaptureHeaders, parseClientIpKey } from "./option-parsers.js";

/** The request a callback is given: Express's `req`, Koa's `ctx`, Fastify's `request`, Hono's `c`, node:http's `req`. */
export type AppRequest = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The general options of what is recorded: the rows' instance and table, what a request event
 * holds, and the hooks that shape an event. A part of GENERAL_OPTIONS (option-table.ts).
 */
export const RECORDING_OPTIONS = {
  instance: {
    doc: {
      group: "rows",
      default: "`os.hostname()`",
      range: "a non-empty string",
      meaning: "the `instance` column: tells apps that report into one table apart",
    },
    ini: "as written",
    check: (read) => (read.has("instance") ? read.text("instance") : hostname()),
  },
  table: {
    doc: {
      group: "store",
      default: "`datasette_events`",
      range: "a non-empty string",
      meaning: "the table a `/-/create` URL (or the embedded store) writes to",
    },
    default: "datasette_events",
    ini: "as written",
    check: (read) => read.text("table"),
  },
  name: {
    doc: {
      group: "requests",
      default: "`events`",
      range: "a JavaScript identifier, not one every object has (`constructor`, `__proto__`, `toString`, ...)",
      meaning:
        "where the request context is attached: `req[name]`, `ctx[name]`; mount two forwarders side by side under two names",
    },
    default: "events",
    ini: false,
    check: (read) => identifier(read.raw("name")),
  },
  actor: {
    doc: {
      group: "requests",
      default:
        "`user?.id` where the framework keeps the user (`req.user`, Koa's `ctx.state.user`, Hono's `c.var.user`)",
      range: "a function",
      meaning: "`(framework's request) => actor id`, looked up when an event is put ([frameworks.md](frameworks.md))",
    },
    ini: false,
    check: (read): ((request: AppRequest) => unknown) => (read.has("actor") ? read.fn("actor") : defaultActor),
  },
  requestEvents: {
    doc: {
      group: "requests",
      default: "`true` (collector: `false`)",
      range: "boolean",
      meaning: "record one `request` event per request",
    },
    default: true,
    ini: false,
    check: (read) => read.bool("requestEvents"),
  },
  requestPath: {
    doc: {
      group: "requests",
      default: '`"path"`',
      range: '`"path"`, `"route"`, `false`',
      meaning:
        "what a `request` event records of the URL: the path (no query) and the route pattern; the route pattern alone, where the framework knows it; or neither ([frameworks.md](frameworks.md#what-a-request-event-records))",
    },
    default: "path",
    ini: false,
    check: (read): "path" | "route" | false => requestPath(read.raw("requestPath")),
  },
  expressDictionaryMode: {
    doc: {
      group: "requests",
      default: "`true`",
      range: "boolean",
      meaning:
        "on Node 20 and 22, switch Express's `req` and `res` to V8's dictionary mode, which makes property access on them cheap (see [performance.md](performance.md#express-on-node-20-and-22))",
    },
    default: true,
    ini: "as written",
    check: (read) => read.bool("expressDictionaryMode"),
  },
  skip: {
    doc: {
      group: "requests",
      default: "none",
      range: "a function",
      meaning: "`(req or ctx) => true` records no request event for that request",
    },
    ini: false,
    check: (read): ((request: AppRequest) => boolean) | undefined => (read.has("skip") ? read.fn("skip") : undefined),
  },
  captureHeaders: {
    doc: {
      group: "requests",
      default: "none",
      range: "a list of header names",
      meaning:
        'request headers the `request` event records, e.g. `["user-agent"]`; headers that carry credentials (`authorization`, `cookie`, `x-api-key`, any name with `token`, `secret`, `session`...) are refused, client IP headers (`x-forwarded-for`...) need `clientIpKey` and are recorded hashed ([delivery.md](delivery.md#security))',
    },
    ini: "as written",
    check: (read) => parseCaptureHeaders(read.raw("captureHeaders"), read.has("clientIpKey")),
  },
  clientIpKey: {
    doc: {
      group: "requests",
      default: "none",
      range: 'a string of 16+ characters, or `{ "$env": "NAME" }`',
      meaning: "record the client IP as `client_ip_hash`, an HMAC keyed with this secret",
    },
    ini: "as written",
    check: (read) => (read.has("clientIpKey") ? parseClientIpKey(read.raw("clientIpKey")) : undefined),
  },
  serializer: {
    doc: {
      group: "rows",
      default: "the Datasette row",
      range: "`(event, meta) => string`",
      meaning: "the text sent for one event (see [collector.md](collector.md#serializers))",
    },
    ini: false,
    check: (read): Serializer | undefined => (read.has("serializer") ? read.fn("serializer") : undefined),
  },
  beforeSend: {
    doc: {
      group: "rows",
      default: "none",
      range: "`(event) => event or null`",
      meaning:
        "sees every event before it is queued (request events too): returns it, changed or not, or `null` to drop it (see [operations.md](operations.md#shaping-events-beforesend))",
    },
    ini: false,
    check: (read): BeforeSend | undefined => (read.has("beforeSend") ? read.fn("beforeSend") : undefined),
  },
} satisfies Record<string, OptionSpec>;

/** `user.id` where each framework keeps the user: Express and Fastify `req.user`, Koa `ctx.state.user`, Hono `c.var.user`. */
function defaultActor(request: AppRequest): unknown {
  return request?.user?.id ?? request?.state?.user?.id ?? request?.var?.user?.id;
}

/** Option requestPath: "path" (the default), "route" or false. */
function requestPath(value: unknown): "path" | "route" | false {
  if (value === "path" || value === "route" || value === false) return value;
  throw new OptionError(
    "requestPath",
    'must be "path" (the path and route), "route" (the route pattern alone) or false',
  );
}
