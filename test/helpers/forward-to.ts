import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { CaptureLogger } from "./capture-logger.js";

export interface Drop {
  events: string[];
  reason: string;
}

export interface Harness {
  events: EventsForward;
  logger: CaptureLogger;
  drops: Drop[];
  /** The `event` names of every dropped event, in drop order. */
  droppedNames(): string[];
}

/** Fast settings for tests: no rate limit, tiny backoff, short timeout. */
export const FAST: EventsForwardOptions = {
  instance: "test",
  requestEvents: false,
  maxRate: 1000,
  timePeriod: 0,
  backoffBaseMs: 5,
  backoffMaxMs: 20,
  requestTimeoutMs: 1_000,
};

/** An eventsForward() aimed at the test store, with a capturing logger and onDrop. */
export function forwardTo(store: { url(): string }, options: EventsForwardOptions = {}): Harness {
  const logger = new CaptureLogger();
  const drops: Drop[] = [];
  const events = eventsForward({
    apiUrl: store.url(),
    ...FAST,
    logger,
    onDrop: (dropped, reason) => drops.push({ events: dropped, reason }),
    ...options,
  });
  return {
    events,
    logger,
    drops,
    droppedNames: () => drops.flatMap((d) => d.events.map((json) => (JSON.parse(json) as { event: string }).event)),
  };
}

/** `n` event names: prefix-0, prefix-1, ... */
export function names(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}
