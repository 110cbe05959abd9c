import type { QueuedEvent } from "../../pipeline/queue.js";

/** Room past the expected end: any byte written past it shows that a count was short. */
const SLACK = 4;

/**
 * A batch body: `prefix`, the events joined by commas, `suffix`. When the caller knows the
 * events' UTF-8 bytes exactly, they are written straight into one Buffer of the body's size: no
 * joined string (for a large batch, a large-object allocation), no second copy when the HTTP
 * client encodes it, and, for an event that writes its own bytes (a Datasette row put with flat
 * properties), no text at all. Should the count be wrong, the joined text is sent instead.
 */
export function batchBody(
  prefix: string,
  events: readonly QueuedEvent[],
  suffix: string,
  payloadBytes?: number,
): string | Buffer {
  // No count (or a nonsense one): the text. An empty batch falls through to it below (at !== end).
  if (payloadBytes === undefined || !(payloadBytes >= 0)) return joined(prefix, events, suffix);
  const end = Buffer.byteLength(prefix) + payloadBytes + (events.length - 1);
  const body = Buffer.allocUnsafe(end + Buffer.byteLength(suffix) + SLACK);
  let at = body.write(prefix, 0);
  try {
    for (let i = 0; i < events.length; i++) {
      if (i > 0) body[at++] = 0x2c; // ,
      const event = events[i]!;
      // A count too short would run past the Buffer, where Buffer.write and set() throw: the text instead.
      if (at + event.bytes > end) return joined(prefix, events, suffix);
      at = event.writeTo === undefined ? at + body.write(event.json, at) : event.writeTo(body, at);
    }
  } catch {
    return joined(prefix, events, suffix); // an event that wrote more than its own count said
  }
  if (at !== end) return joined(prefix, events, suffix);
  return body.subarray(0, at + body.write(suffix, at));
}

function joined(prefix: string, events: readonly QueuedEvent[], suffix: string): string {
  return `${prefix}${events.map((event) => event.json).join(",")}${suffix}`;
}
