import { builtin } from "../../core/builtin.js";
import { EventError } from "../../core/errors.js";
import { describe } from "../../row/event-input.js";

/**
 * Where a legacy event's field goes in its payload, as in baseplate: normal fields at the top,
 * sensitive ones (IP addresses, say) under `obfuscated_data`, fields with unbounded distinct
 * values under `interana_excluded`.
 */
export const FieldKind = {
  NORMAL: "normal",
  OBFUSCATED: "obfuscated_data",
  HIGH_CARDINALITY: "interana_excluded",
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

const NESTED_KINDS: readonly FieldKind[] = [FieldKind.OBFUSCATED, FieldKind.HIGH_CARDINALITY];
const KINDS = new Set<unknown>(Object.values(FieldKind));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LegacyEventOptions {
  /** When it happened: a Date or milliseconds since the epoch. Default: now. */
  timestamp?: Date | number;
  /** The event's UUID. Default: a fresh random (v4) UUID. */
  id?: string;
}

// Null-prototype objects: a field named "__proto__" is then just a field.
type Fields = Record<string, unknown>;
const fields = (): Fields => Object.create(null) as Fields;

/**
 * A legacy schemaless event for a baseplate collector (version 1 bodies), serialized as
 * `{"event_topic","event_type","event_ts","uuid","payload"}`.
 */
export class LegacyEvent {
  readonly topic: string;
  readonly eventType: string;
  /** Milliseconds since the epoch, a whole number. */
  readonly timestamp: number;
  readonly id: string;
  private readonly payload: Fields = fields();

  constructor(topic: string, eventType: string, options: LegacyEventOptions = {}) {
    this.topic = nonEmpty("topic", topic);
    this.eventType = nonEmpty("eventType", eventType);
    this.timestamp = toMilliseconds(options.timestamp);
    if (options.id !== undefined && (typeof options.id !== "string" || !UUID.test(options.id))) {
      throw new EventError(`Event id must be a UUID string, got ${describe(options.id)}`);
    }
    this.id = options.id ?? builtin("node:crypto").randomUUID();
  }

  /**
   * Sets a field. Null, undefined and "" are not sent (the collector treats them as absent), so
   * they remove the field; zero and false are kept. A key lives in one kind at a time.
   */
  setField(key: string, value: unknown, kind: FieldKind = FieldKind.NORMAL): this {
    nonEmpty("field key", key);
    if (!KINDS.has(kind))
      throw new EventError(`field "${key}": kind must be one of FieldKind's values, got ${describe(kind)}`);
    if (kind === FieldKind.NORMAL && (NESTED_KINDS as readonly string[]).includes(key)) {
      throw new EventError(`field "${key}" would clash with the payload section of that name; use FieldKind instead`);
    }
    this.deleteField(key);
    if (value === null || value === undefined || value === "") return this;
    if (kind === FieldKind.NORMAL) this.payload[key] = value;
    else ((this.payload[kind] ??= fields()) as Fields)[key] = value;
    return this;
  }

  /** The field's value, whatever its kind; undefined when it is not set. */
  getField(key: string): unknown {
    if (!(NESTED_KINDS as readonly string[]).includes(key) && key in this.payload) return this.payload[key];
    for (const kind of NESTED_KINDS) {
      const section = this.payload[kind] as Fields | undefined;
      if (section !== undefined && key in section) return section[key];
    }
    return undefined;
  }

  /** The JSON text a collector expects; throws EventError when a value cannot be JSON. */
  serialize(): string {
    try {
      return JSON.stringify({
        event_topic: this.topic,
        event_type: this.eventType,
        event_ts: this.timestamp,
        uuid: this.id,
        payload: this.payload,
      });
    } catch (error) {
      throw new EventError(
        `event ${this.topic}/${this.eventType} cannot be serialized to JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private deleteField(key: string): void {
    if (!(NESTED_KINDS as readonly string[]).includes(key)) delete this.payload[key];
    for (const kind of NESTED_KINDS) {
      const section = this.payload[kind] as Fields | undefined;
      if (section === undefined || !(key in section)) continue;
      delete section[key];
      if (Object.keys(section).length === 0) delete this.payload[kind];
    }
  }
}

function nonEmpty(what: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    throw new EventError(`Event ${what} must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** Integer milliseconds, as baseplate's event_ts (fractions are cut, not rounded). */
function toMilliseconds(timestamp: Date | number | undefined): number {
  if (timestamp === undefined) return Date.now();
  const ms = timestamp instanceof Date ? timestamp.getTime() : typeof timestamp === "number" ? timestamp : Number.NaN;
  if (!Number.isFinite(ms))
    throw new EventError(`Event timestamp must be a Date or milliseconds since the epoch, got ${describe(timestamp)}`);
  return Math.floor(ms);
}
