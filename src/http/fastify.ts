import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import type { RequestInFlight, RequestRecorder } from "./request-recorder.js";

/** The Fastify versions the plugin is written for; Fastify refuses to register it on others. */
export const FASTIFY_VERSIONS = "5.x";
export const FASTIFY_PLUGIN_NAME = "events-forward";

/**
 * Fastify's plugin signature written out, so that the package's declarations need no Fastify types
 * (an optional peer): `instance` is `any` so the plugin is assignable to Fastify's
 * `FastifyPluginCallback` whatever its type parameters.
 */
export type EventsFastifyPlugin = (
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  instance: any,
  options: Record<never, never>,
  done: (error?: Error) => void,
) => void;

/**
 * `await fastify.register(events.fastify)`: a plugin in Fastify's own terms, built without
 * importing Fastify (an optional peer). It carries the marks `fastify-plugin` would set, so it
 * applies to the whole app rather than to an encapsulated child context, declares its name and
 * the Fastify versions it supports, decorates the request up front (every request object gets
 * the same shape), and works through hooks: onRequest attaches the context, onResponse records
 * the request event, onRequestAbort records one for a client that left first. Closing the app
 * drains the forwarder (`close`).
 */
export function createFastifyPlugin(recorder: RequestRecorder, close: () => Promise<unknown>): EventsFastifyPlugin {
  const { name } = recorder;
  // Per plugin, so that two forwarders (under two names) can be registered on one app.
  const IN_FLIGHT = Symbol(`events-forward.${name}.inFlight`);
  // onRequestAbort is given no reply: the status the client saw is read from the one kept here.
  const REPLY = Symbol(`events-forward.${name}.reply`);
  type Holder = FastifyRequest & Record<string | symbol, unknown>;

  const plugin: FastifyPluginCallback = (fastify, _options, done) => {
    fastify.decorateRequest(name, null);
    fastify.decorateRequest(IN_FLIGHT, null);
    fastify.decorateRequest(REPLY, null);
    fastify.addHook("onRequest", (request, reply, next) => {
      const inFlight = recorder.begin(request, request.raw, fastifyRoute);
      if (inFlight !== undefined) {
        (request as Holder)[name] = inFlight.context;
        (request as Holder)[IN_FLIGHT] = inFlight;
        (request as Holder)[REPLY] = reply;
      }
      next();
    });
    fastify.addHook("onResponse", (request, reply, next) => {
      const inFlight = (request as Holder)[IN_FLIGHT] as RequestInFlight | null;
      if (inFlight !== null) recorder.end(inFlight, reply.statusCode, false);
      next();
    });
    fastify.addHook("onRequestAbort", (request, next) => {
      const inFlight = (request as Holder)[IN_FLIGHT] as RequestInFlight | null;
      // A client that left before the headers went out saw no status: record none.
      if (inFlight !== null) recorder.end(inFlight, statusSeen((request as Holder)[REPLY] as FastifyReply), true);
      next();
    });
    fastify.addHook("onClose", (_instance, next) => {
      close().then(
        () => next(),
        () => next(),
      );
    });
    done();
  };
  return Object.assign(plugin, {
    [Symbol.for("skip-override")]: true,
    [Symbol.for("fastify.display-name")]: FASTIFY_PLUGIN_NAME,
    [Symbol.for("plugin-meta")]: { name: FASTIFY_PLUGIN_NAME, fastify: FASTIFY_VERSIONS },
  });
}

function statusSeen(reply: FastifyReply): number | null {
  return reply.raw.headersSent ? reply.statusCode : null;
}

/** The route pattern Fastify matched (undefined when none did). */
function fastifyRoute(request: FastifyRequest): string | undefined {
  return request.routeOptions.url;
}
