import { EventError } from "../../core/errors.js";
import { describe, type Serializer } from "../../row/event-input.js";
import { LegacyEvent } from "./legacy-event.js";

/** Like baseplate's serialize_v1_event: a legacy Event as its JSON text. */
export const serializeV1Event: Serializer = (event) => {
  if (!(event instanceof LegacyEvent)) {
    throw new EventError(
      `the v1 collector serializer takes an Event (new Event(topic, eventType)), got ${describe(event)}`,
    );
  }
  return event.serialize();
};

/**
 * Like baseplate's serialize_v2_event, for events already encoded as Thrift-JSON (by a Thrift
 * library from the app's schemas): a string passes through untouched, an object is
 * JSON.stringify'd once. The text must be one JSON object, so a broken event fails alone at
 * put() instead of spoiling a whole batch.
 */
export const serializeV2Event: Serializer = (event) => {
  if (event instanceof LegacyEvent) {
    throw new EventError(
      "a legacy Event is for collector version 1: set collector.version to 1 (the default is 2, as in baseplate's publisher)",
    );
  }
  if (typeof event === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch (error) {
      throw new EventError(`a v2 event string must be Thrift-JSON text: ${(error as Error).message}`, { cause: error });
    }
    if (!isPlainObject(parsed))
      throw new EventError(`a v2 event must be a Thrift-JSON struct (a JSON object), got ${describe(parsed)}`);
    return event;
  }
  if (!isPlainObject(event))
    throw new EventError(
      `a v2 event must be a Thrift-JSON struct (an object or its JSON text), got ${describe(event)}`,
    );
  try {
    return JSON.stringify(event);
  } catch (error) {
    throw new EventError(`v2 event cannot be serialized to JSON: ${(error as Error).message}`, { cause: error });
  }
};

function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
