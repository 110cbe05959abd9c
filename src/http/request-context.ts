import type { EventInput, EventMeta } from "../row/event-input.js";

/** What the request context needs from the forwarder: a way to put enriched events. */
export interface PutTarget {
  /** `requestEvent`: the automatic request event, which may fill only its share of the queue. */
  putWithMeta(event: unknown, meta: EventMeta, requestEvent?: boolean): void;
}

/**
 * The request context, attached as `req.events` / `ctx.events`. Created per request, it holds only
 * what enriches the events put through it: the request id and a way to find the actor.
 */
export class RequestEvents<In = EventInput> implements EventMeta {
  /** requestIdOf() makes ULIDs and keeps only X-Request-Ids of `[\w.:+/=@-]`: JSON never escapes them. */
  get requestIdIsPlain(): boolean {
    return true;
  }

  constructor(
    private readonly target: PutTarget,
    readonly requestId: string,
    private readonly request: unknown,
    private readonly findActor: (request: unknown) => unknown,
  ) {}

  /** The actor is looked up at put() time, so authentication that runs later still counts. */
  get actorId(): unknown {
    try {
      return this.findActor(this.request);
    } catch {
      return undefined;
    }
  }

  /** Queues an event carrying this request's id and actor; throws EventError subclasses. */
  put(event: In): void {
    this.target.putWithMeta(event, this);
  }

  /** The request event: refused first when the queue fills (see Forwarder.enqueue). */
  putRequestEvent(event: EventInput): void {
    this.target.putWithMeta(event, this, true);
  }
}
