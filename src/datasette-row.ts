import { EventError } from "./errors.js";
import { checkInput, describe, idText, propertiesJson, toIsoDate, wellFormed, type EventMeta, type Serializer } from "./event.js";
import { flatProperties, flatPropertiesJson, type FlatProperties } from "./flat-properties.js";
import { monotonicUlid } from "./ids.js";
import type { QueuedEvent } from "./queue.js";

/** Row ids come from one factory, so they are monotonic in the process, across forwarders. */
const nextId = monotonicUlid();

/** The row's fixed text: every column name and quote, none of the values. */
const FRAME_BYTES =
  '{"id":"","instance":,"event":,"created":"","actor_id":,"database_name":,"table_name":,"properties":}'.length;

/** Every column of a row but `properties`, as JSON text (id and created without their quotes). */
interface RowHead {
  id: string;
  instanceJson: string;
  nameJson: string;
  created: string;
  actorJson: string;
  databaseJson: string;
  tableJson: string;
  /** UTF-8 bytes of the row without the properties column's text. */
  bytes: number;
}

/**
 * Datasette rows as datasette-events-forward writes them: eight columns, a ULID that is monotonic
 * in the process. text() makes the row's text now; queued() is put()'s path, which leaves the
 * text to the batch when the properties are flat (see flat-properties.ts).
 */
export class DatasetteRows {
  private readonly instanceJson: string;
  private readonly instanceBytes: number;
  private readonly clock = { ms: Number.NaN, iso: "" };
  private readonly names = new LastJson();
  private readonly actors = new LastJson();

  constructor(instance: string) {
    this.instanceJson = JSON.stringify(wellFormed(instance));
    this.instanceBytes = Buffer.byteLength(this.instanceJson);
  }

  /** The same text JSON.stringify would make of the row object, without building the object. */
  text(input: unknown, meta: EventMeta): string {
    const event = checkInput(input);
    const head = this.head(event, meta);
    return guarded(event.event, () => rowText(head, JSON.stringify(propertiesJson(event.properties, meta.requestId) ?? "{}")));
  }

  /** The row as the queue holds it: its exact size now, its text now or when the batch is built. */
  queued(input: unknown, meta: EventMeta): QueuedEvent {
    const event = checkInput(input);
    const head = this.head(event, meta);
    const flat = flatProperties(event.properties, meta.requestId);
    if (flat !== undefined) return new DeferredRow(head, flat, head.bytes + flat.bytes);
    // A toJSON() that returns undefined would drop the column.
    const json = guarded(event.event, () => rowText(head, JSON.stringify(propertiesJson(event.properties, meta.requestId) ?? "{}")));
    return { json, bytes: Buffer.byteLength(json) };
  }

  private head(event: ReturnType<typeof checkInput>, meta: EventMeta): RowHead {
    const now = Date.now();
    const created = event.created === undefined ? isoAt(this.clock, now) : toIsoDate(event.created);
    const actorId = idText(event.actorId !== undefined ? event.actorId : meta.actorId);
    const name = this.names.json(event.event);
    const actorJson = actorId === null ? "null" : this.actors.json(actorId);
    const databaseJson = nameJson(event.databaseName);
    const tableJson = nameJson(event.tableName);
    const bytes =
      FRAME_BYTES + 26 + this.instanceBytes + this.names.bytes + created.length + (actorId === null ? 4 : this.actors.bytes) +
      byteLength(databaseJson) + byteLength(tableJson);
    return { id: nextId(now), instanceJson: this.instanceJson, nameJson: name, created, actorJson, databaseJson, tableJson, bytes };
  }
}

/** A row whose text is made when it is first read (in the batch), from a copy of its properties. */
class DeferredRow implements QueuedEvent {
  private text: string | undefined;

  constructor(
    private readonly head: RowHead,
    private properties: FlatProperties | undefined,
    readonly bytes: number,
  ) {}

  get json(): string {
    if (this.text === undefined) {
      this.text = rowText(this.head, JSON.stringify(flatPropertiesJson(this.properties!)));
      this.properties = undefined;
    }
    return this.text;
  }
}

function rowText(h: RowHead, propertiesColumn: string): string {
  return (
    `{"id":"${h.id}","instance":${h.instanceJson},"event":${h.nameJson},"created":"${h.created}",` +
    `"actor_id":${h.actorJson},"database_name":${h.databaseJson},"table_name":${h.tableJson},"properties":${propertiesColumn}}`
  );
}

/** Serialization failures (a getter, a toJSON, a BigInt) become EventErrors naming the event. */
function guarded<T>(name: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof EventError) throw error;
    throw new EventError(`event ${describe(name)} cannot be serialized to JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** The default serializer: one Datasette row's text (the `serializer` option's shape). */
export function datasetteRowSerializer(instance: string): Serializer {
  const rows = new DatasetteRows(instance);
  return (input, meta) => rows.text(input, meta);
}

/** The ISO 8601 text of `now`, made once per millisecond. */
function isoAt(clock: { ms: number; iso: string }, now: number): string {
  if (now !== clock.ms) {
    clock.ms = now;
    clock.iso = new Date(now).toISOString();
  }
  return clock.iso;
}

/** The JSON text (and its bytes) of the last string seen: event names and actors repeat. */
class LastJson {
  private text = "";
  private jsonText = '""';
  bytes = 2;

  json(text: string): string {
    if (text !== this.text) {
      this.text = text;
      this.jsonText = JSON.stringify(wellFormed(text));
      this.bytes = Buffer.byteLength(this.jsonText);
    }
    return this.jsonText;
  }
}

/** databaseName and tableName: checkInput let through only strings, null and undefined. */
function nameJson(value: string | null | undefined): string {
  return value === undefined || value === null ? "null" : JSON.stringify(wellFormed(value));
}

function byteLength(json: string): number {
  return json === "null" ? 4 : Buffer.byteLength(json);
}
