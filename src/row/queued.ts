import { EventError } from "../core/errors.js";
import type { QueuedEvent } from "../pipeline/queue.js";
import { DatasetteRows } from "./datasette-row.js";
import { describe, type EventMeta, type Serializer } from "./event-input.js";

/** How put() turns what the app gave into what the queue holds; throws EventError subclasses only. */
export type QueuedEventMaker = (event: unknown, meta: EventMeta) => QueuedEvent;

/**
 * Datasette rows, which leave their text to the batch when their properties are flat (the
 * default of the Datasette and embedded stores).
 */
export function datasetteRowEvents(instance: string): QueuedEventMaker {
  const rows = new DatasetteRows(instance);
  return (event, meta) => {
    try {
      return rows.queued(event, meta);
    } catch (error) {
      throw asEventError(error);
    }
  };
}

/** Any other serializer runs at once, in put(). */
export function serializedEvents(serialize: Serializer): QueuedEventMaker {
  return (event, meta) => {
    let json: string;
    try {
      json = serialize(event, meta);
    } catch (error) {
      throw asEventError(error);
    }
    if (typeof json !== "string") throw new EventError(`the serializer returned ${describe(json)}, not a string`);
    return { json, bytes: Buffer.byteLength(json) };
  };
}

/** Whatever reading or serializing an event throws (a getter, a toJSON, a serializer's bug) becomes an EventError. */
function asEventError(error: unknown): EventError {
  if (error instanceof EventError) return error;
  return new EventError(`the event cannot be serialized: ${(error as Error)?.message ?? describe(error)}`, {
    cause: error,
  });
}
