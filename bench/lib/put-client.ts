/**
 * One contender of the put() benchmark, in its own process (its own heap: another contender's
 * garbage is not collected during its samples):
 *   node --import tsx put-client.ts <events.put|events.put+beforeSend|req.events.put|posthog-node|segment|json|floor|floor+checks> <sinkUrl> <K>
 *   node --import tsx put-client.ts events.put@baseline <sinkUrl> <K> <module of another build's eventsForward>
 * `events.put+beforeSend` is events.put with a trivial beforeSend hook (it returns the event);
 * `events.put+subscribed`, events.put with a subscriber on every diagnostics channel.
 * `json` is a yardstick, not a contender: JSON.stringify of the same properties and nothing else,
 * to show what one serialization of the payload costs on this machine; `floor` and
 * `floor+checks` are what a put() costs here at the least (lib/floor-put.ts). Neither sends.
 * On `sample` it makes K calls, lets one turn of the event loop run (posthog-node and Segment
 * finish queueing an event in promise callbacks), answers `{ wallNs, cpuNs }` per event, and then,
 * untimed, flushes everything to the sink so that the next sample starts with empty queues.
 * Sending is held off during samples for every contender: batch thresholds above K and no timers
 * (events-forward: one request a day after the first flush).
 */
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { Analytics } from "@segment/analytics-node";
import { PostHog } from "posthog-node";
import { subscribe } from "node:diagnostics_channel";
import { CHANNELS, eventsForward as ownEventsForward, type EventInput } from "./package.js";
import { floorPut } from "./floor-put.js";
import { EVENT_NAME, USER_ID, eventProperties, quietLogger } from "./payload.js";

const SEND_EVENTS = ["start", "end", "asyncStart", "asyncEnd", "error"].map(
  (event) => `tracing:${CHANNELS.send}:${event}`,
);
const [name, sinkUrl, kText, baseline] = process.argv.slice(2) as [string, string, string, string?];
const K = Number(kText);
// `events.put@baseline`: events.put from another build (put-cost.ts --baseline), in the same run.
const eventsForward: typeof ownEventsForward =
  name === "events.put@baseline"
    ? ((await import(baseline!)) as { eventsForward: typeof ownEventsForward }).eventsForward
    : ownEventsForward;

function contender(): { call: (i: number) => void; flush: () => Promise<unknown>; close: () => Promise<unknown> } {
  if (name === "events.put+subscribed")
    for (const channel of [...Object.values(CHANNELS), ...SEND_EVENTS]) subscribe(channel, () => {});
  if (
    name === "events.put" ||
    name === "events.put@baseline" ||
    name === "events.put+beforeSend" ||
    name === "events.put+subscribed" ||
    name === "req.events.put"
  ) {
    const events = eventsForward({
      apiUrl: `${sinkUrl}/bench/-/create`,
      instance: "bench",
      actor: () => USER_ID,
      requestEvents: false,
      batchLimit: 100,
      maxRate: 1,
      timePeriod: 86_400,
      maxQueueSize: 4 * K,
      logger: quietLogger,
      ...(name === "events.put+beforeSend" ? { beforeSend: (event: EventInput) => event } : {}),
    });
    const flush = () => events.flush();
    const close = () => events.close();
    if (name !== "req.events.put") {
      return {
        call: (i) => events.put({ event: EVENT_NAME, actorId: USER_ID, properties: eventProperties(i) }),
        flush,
        close,
      };
    }
    // A request context as the middleware makes it: the event takes the request id and actor.
    const req = new IncomingMessage(new Socket()) as IncomingMessage & { events: { put(e: object): void } };
    req.method = "GET";
    req.url = "/checkout";
    events(req, new ServerResponse(req), () => {});
    return { call: (i) => req.events.put({ event: EVENT_NAME, properties: eventProperties(i) }), flush, close };
  }
  if (name === "posthog-node") {
    const posthog = new PostHog("phc_bench", {
      host: sinkUrl,
      flushAt: 4 * K,
      maxQueueSize: 4 * K,
      maxBatchSize: 4 * K,
      flushInterval: 0,
    });
    return {
      call: (i) => posthog.capture({ distinctId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
      flush: () => posthog.flush(),
      close: () => posthog.shutdown(),
    };
  }
  if (name === "segment") {
    const segment = new Analytics({
      writeKey: "bench",
      host: sinkUrl,
      path: "/v1/batch",
      flushAt: 4 * K,
      flushInterval: 3_600_000,
    });
    return {
      call: (i) => segment.track({ userId: USER_ID, event: EVENT_NAME, properties: eventProperties(i) }),
      flush: () => segment.flush(),
      close: () => segment.closeAndFlush(),
    };
  }
  if (name === "json") {
    let kept = "";
    return {
      call: (i) => (kept = JSON.stringify(eventProperties(i))),
      flush: async () => kept,
      close: async () => kept,
    };
  }
  if (name === "floor" || name === "floor+checks") {
    const floor = floorPut(name === "floor+checks");
    return {
      call: (i) => floor.put({ event: EVENT_NAME, properties: eventProperties(i) }),
      flush: async () => floor.clear(),
      close: async () => {},
    };
  }
  throw new Error(`unknown contender ${name}`);
}

const { call, flush, close } = contender();
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

process.on("message", async (message: string) => {
  if (message === "close") {
    await close();
    process.send!({ closed: true });
    return;
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < K; i++) call(i);
  await turn();
  const wallNs = ((performance.now() - start) * 1e6) / K;
  const used = process.cpuUsage(cpu);
  const cpuNs = ((used.user + used.system) * 1e3) / K;
  await flush();
  process.send!({ wallNs, cpuNs });
});
process.send!({ port: 0 });
process.on("disconnect", () => process.exit(0));
