import { BeforeSendError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { describe, type EventInput, type EventMeta } from "./event-input.js";

/**
 * Option `beforeSend` (posthog's before_send): given each event as put() received it (request
 * events too), returns it (changed or not), or null to drop it quietly.
 */
export type BeforeSend = (event: EventInput) => EventInput | null;

/** What the hook adds to stats(). */
export interface BeforeSendStats {
  /** Events beforeSend dropped (returned null): neither queued nor counted as dropped. */
  filtered: number;
  /** put() calls that failed because beforeSend threw or returned something that is not an event. */
  beforeSendErrors: number;
}

type Put = (event: unknown, meta: EventMeta, requestEvent?: boolean) => void;

/**
 * put() with the hook in front of it. The root wraps put() only when the option is set, so a
 * forwarder without a hook does no work for it.
 */
export function withBeforeSend(
  hook: BeforeSend,
  put: Put,
  isClosed: () => boolean,
  counts: BeforeSendStats,
  logger: Logger,
): Put {
  let reported = false;
  const fail = (problem: string, cause?: unknown): never => {
    counts.beforeSendErrors++;
    const error = new BeforeSendError(problem, cause === undefined ? undefined : { cause });
    // Request events cannot throw into the app: this line (and the count) is all anyone sees.
    if (!reported) logger.warn(`${error.message} (reported once; stats().beforeSendErrors counts them)`);
    reported = true;
    throw error;
  };
  return (event, meta, requestEvent) => {
    // A closed forwarder refuses the put before the hook sees the event (put() throws ForwarderClosedError).
    if (isClosed()) return put(event, meta, requestEvent);
    let shaped: unknown;
    try {
      shaped = hook(event as EventInput);
    } catch (error) {
      fail(`option beforeSend threw: ${(error as Error)?.message ?? describe(error)}`, error);
    }
    if (shaped === null) {
      counts.filtered++;
      return;
    }
    // undefined is the usual bug (a branch that forgot to return): dropping silently would hide it.
    if (shaped === undefined || typeof shaped !== "object")
      fail(
        `option beforeSend returned ${shaped === undefined ? "undefined" : describe(shaped)}: return the event (changed or not), or null to drop it`,
      );
    put(shaped, meta, requestEvent);
  };
}
