import type { QueuedEvent } from "../../src/pipeline/queue.js";
import type { Failure, SendResult, Sink } from "../../src/pipeline/sink.js";
import type { Stopping } from "../../src/pipeline/stop-signal.js";

/** What a scripted sink answers a batch (the events' texts), or a promise of it. */
export type Script = (batch: string[], signal: Stopping) => SendResult | Promise<SendResult>;

/**
 * A custom sink (the public Sink interface, as a user's own store would implement it) that
 * answers as the test scripts it and records each batch it was sent, as the events' texts.
 */
export function scriptedSink(script: Script = () => ({ ok: true })): Sink & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    description: "scripted sink",
    batches,
    send(events: readonly QueuedEvent[], signal: Stopping): Promise<SendResult> {
      const batch = events.map((event) => event.json);
      batches.push(batch);
      return Promise.resolve(script(batch, signal));
    },
  };
}

/** An answer that never comes, but for close(): the request is cut short at the deadline. */
export function untilStopped(signal: Stopping): Promise<SendResult> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve({ ok: false, retry: true, reason: "aborted" }), { once: true }),
  );
}

/** The store rejects the content of the batch (a 422): halving it isolates the bad events. */
export const REJECTED: Failure = { ok: false, retry: false, splittable: true, status: 422, reason: "HTTP 422" };

/** Events of `bytes` bytes each, their texts the given names. */
export function eventsOf(names: string[], bytes = 10): QueuedEvent[] {
  return names.map((json) => ({ json, bytes }));
}
