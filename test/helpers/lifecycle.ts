import { afterEach } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { FAST } from "./fast-options.js";
import { TestStore } from "./test-store.js";

const cleanups: (() => Promise<unknown>)[] = [];

/** Runs `cleanup` after the current test (all of them together). */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A started test store that stops after the test. */
export async function startStore(behave?: TestStore["behave"]): Promise<TestStore> {
  const store = await new TestStore().start();
  if (behave) store.behave = behave;
  onCleanup(() => store.stop());
  return store;
}

/** A quiet forwarder with the FAST options that closes after the test. */
export function startForwarder(apiUrl: string, options: Partial<EventsForwardOptions> = {}): EventsForward {
  const events = eventsForward({ apiUrl, ...FAST, logger: false, ...options });
  onCleanup(() => events.close({ timeoutMs: 200 }));
  return events;
}
