import type { EventQueue, QueuedEvent } from "../../src/pipeline/queue.js";
import { waitFor } from "./wait.js";

/** An event `{ n, pad }` (pad: that many x), as a queue holds it. */
export function numbered(n: number, pad = 0): QueuedEvent {
  const json = JSON.stringify({ n, pad: "x".repeat(pad) });
  return { json, bytes: Buffer.byteLength(json) };
}

/** The n of each event. */
export function numbersOf(events: readonly { json: string }[]): number[] {
  return events.map((event) => (JSON.parse(event.json) as { n: number }).n);
}

/** from, from + 1, ..., to - 1. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Takes (`batchSize` at a time) and settles until `count` events came out of the queue; returns their n, in order. */
export async function drain(queue: EventQueue, count: number, timeoutMs = 10_000, batchSize = 500): Promise<number[]> {
  const seen: number[] = [];
  await waitFor(
    async () => {
      const batch = await queue.take(batchSize, Number.POSITIVE_INFINITY);
      seen.push(...numbersOf(batch));
      await queue.settle(batch);
      return seen.length >= count;
    },
    { timeoutMs, intervalMs: 5, what: `${count} events out of the spool` },
  );
  return seen;
}
