import { afterEach, beforeEach } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { FAST } from "./fast-options.js";
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

/** An eventsForward() aimed at the test store: FAST, no request events, a capturing logger and onDrop. */
export function forwardTo(store: { url(): string }, options: EventsForwardOptions = {}): Harness {
  const logger = recordingLogger();
  const drops: Drop[] = [];
  const events = eventsForward({
    apiUrl: store.url(),
    ...FAST,
    requestEvents: false,
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

/** The live handle of a test file against the loopback store: what each test reads and starts. */
export interface LoopbackStoreTest {
  /** This test's store: a fresh TestStore, started before the test and stopped after it. */
  readonly store: TestStore;
  /** The harness forward() last started in this test. */
  readonly h: Harness;
  /** forwardTo(this test's store, options); closed after the test. */
  forward(options?: EventsForwardOptions): Harness;
}

/**
 * The one preamble of a loopback test file: `const t = useLoopbackStore();`. Before each test a
 * fresh store starts; after it every harness the test started is closed, then the store stops.
 */
export function useLoopbackStore(): LoopbackStoreTest {
  let store: TestStore | undefined;
  const harnesses: Harness[] = [];
  beforeEach(async () => {
    store = await new TestStore().start();
  });
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.events.close({ timeoutMs: 100 })));
    await store?.stop();
  });
  const t: LoopbackStoreTest = {
    get store() {
      if (!store) throw new Error("the loopback store starts before each test: use t.store inside a test");
      return store;
    },
    get h() {
      const h = harnesses.at(-1);
      if (!h) throw new Error("no harness yet: start one with t.forward()");
      return h;
    },
    forward(options = {}) {
      const h = forwardTo(t.store, options);
      harnesses.push(h);
      return h;
    },
  };
  return t;
}
