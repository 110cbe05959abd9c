import { afterEach } from "vitest";
import { eventsForward, type EventsForward, type EventsForwardOptions } from "../../src/index.js";
import { Recorder, type Responder } from "./recorder.js";

const cleanups: (() => Promise<unknown>)[] = [];

/** Runs `cleanup` after the current test (all of them together). */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A recording store that closes after the test. */
export async function startStore(respond?: Responder): Promise<Recorder> {
  const recorder = await Recorder.start(respond);
  onCleanup(() => recorder.close());
  return recorder;
}

/** A quiet forwarder with fast retries that closes after the test. */
export function startForwarder(apiUrl: string, options: Partial<EventsForwardOptions> = {}): EventsForward {
  const events = eventsForward({ apiUrl, instance: "test", logger: false, backoffBaseMs: 5, ...options });
  onCleanup(() => events.close({ timeoutMs: 200 }));
  return events;
}
