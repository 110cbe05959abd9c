import { afterEach, beforeEach } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { recordingLogger } from "./recording-logger.js";
import { TestStore } from "./test-store.js";

export interface Drop {
  events: string[];
  reason: string;
}

export interface Harness {
  events: EventsForward;
  logger: ReturnType<typeof recordingLogger>;
  drops: Drop[];
  /** The `event` names of every dropped event, in drop order. */
  droppedNames(): string[];
}

/** Quick settings for loopback tests: no rate limit, tiny backoff, short timeout. */
export const QUICK: EventsForwardOptions = {
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
  const logger = recordingLogger();
  const drops: Drop[] = [];
  const events = eventsForward({
    apiUrl: store.url(),
    ...QUICK,
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

/** The messages the harness logged at `level` (warn or error) that match `pattern`, without the level prefix. */
export function logged(h: Harness, pattern: RegExp, level?: "warn" | "error"): string[] {
  return h.logger.messages
    .filter((line) => level === undefined || line.startsWith(`${level}: `))
    .map((line) => line.slice(line.indexOf(": ") + 2))
    .filter((message) => pattern.test(message));
}

/**
 * Registers the hooks most loopback tests share: a fresh, started TestStore before each test
 * (handed to `started`, which also forgets the previous test's harness), and after it the
 * harness `current()` returns closed and the store stopped.
 */
export function eachTestWithStore(started: (store: TestStore) => void, current: () => Harness | undefined): void {
  let store: TestStore;
  beforeEach(async () => {
    store = await new TestStore().start();
    started(store);
  });
  afterEach(async () => {
    await current()?.events.close({ timeoutMs: 100 });
    await store.stop();
  });
}
