import { EventError } from "./errors.js";
import { checkInput, describe, idText, propertiesJson, toIsoDate, wellFormed, type EventInput, type EventMeta, type Serializer } from "./event.js";
import { flatProperties, flatPropertiesColumn, type FlatProperties } from "./flat-properties.js";
import { monotonicUlid } from "./ids.js";
import type { QueuedEvent } from "./queue.js";

/** Row ids come from one factory, so they are monotonic in the process, across forwarders. */
const nextId = monotonicUlid();

/** The row's fixed text: every column name and quote, none of the values. */
const FRAME_BYTES =
  '{"id":"","instance":,"event":,"created":"","actor_id":,"database_name":,"table_name":,"properties":}'.length;

/** The length of an ISO 8601 date of this era, as toISOString() writes it. */
const ISO_LENGTH = "2000-01-01T00:00:00.000Z".length;

/**
 * A row as the queue holds it. Its text is made when first read (in the batch), from a copy of
 * its flat properties; a row whose properties are not flat gets its text at put() time instead.
 */
class Row implements QueuedEvent {
  constructor(
    readonly id: string,
    readonly nameJson: string,
    /** The ISO text, or the milliseconds to write it from (an event put without `created`). */
    private created: string | number,
    readonly actorJson: string,
    readonly databaseJson: string,
    readonly tableJson: string,
    private readonly rows: DatasetteRows,
    private flat: FlatProperties | undefined,
    /** Exact before the text is made. */
    readonly bytes: number,
  ) {}

  private text: string | undefined;

  get json(): string {
    if (this.text === undefined) {
      this.text = this.rows.rowText(this, flatPropertiesColumn(this.flat!));
      this.flat = undefined;
    }
    return this.text;
  }

  get createdText(): string {
    if (typeof this.created === "number") this.created = this.rows.isoAt(this.created);
    return this.created;
  }
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
    return this.rowText(this.row(event, meta, undefined), this.propertiesColumn(event, meta));
  }

  /** The row as the queue holds it: its exact size now, its text now or when the batch is built. */
  queued(input: unknown, meta: EventMeta): QueuedEvent {
    const event = checkInput(input);
    const flat = flatProperties(event.properties, meta.requestId);
    const row = this.row(event, meta, flat);
    if (flat !== undefined) return row;
    const json = this.rowText(row, this.propertiesColumn(event, meta));
    return { json, bytes: Buffer.byteLength(json) };
  }

  rowText(row: Row, propertiesColumn: string): string {
    return (
      `{"id":"${row.id}","instance":${this.instanceJson},"event":${row.nameJson},"created":"${row.createdText}",` +
      `"actor_id":${row.actorJson},"database_name":${row.databaseJson},"table_name":${row.tableJson},"properties":${propertiesColumn}}`
    );
  }

  /** The ISO 8601 text of `ms`, made once per millisecond. */
  isoAt(ms: number): string {
    if (ms !== this.clock.ms) {
      this.clock.ms = ms;
      this.clock.iso = new Date(ms).toISOString();
    }
    return this.clock.iso;
  }

  /** Every column but the properties; with flat properties, their bytes are counted too. */
  private row(event: EventInput, meta: EventMeta, flat: FlatProperties | undefined): Row {
    const now = Date.now();
    const created = event.created === undefined ? now : toIsoDate(event.created);
    const actorId = idText(event.actorId !== undefined ? event.actorId : meta.actorId);
    const name = this.names.json(event.event);
    const actorJson = actorId === null ? "null" : this.actors.json(actorId);
    const databaseJson = nameJson(event.databaseName);
    const tableJson = nameJson(event.tableName);
    const bytes =
      FRAME_BYTES + 26 + this.instanceBytes + this.names.bytes + (typeof created === "number" ? ISO_LENGTH : created.length) +
      (actorId === null ? 4 : this.actors.bytes) + byteLength(databaseJson) + byteLength(tableJson) + (flat === undefined ? 0 : flat.bytes);
    return new Row(nextId(now), name, created, actorJson, databaseJson, tableJson, this, flat, bytes);
  }

  /** The properties column of a row that is not flat: serialized now. */
  private propertiesColumn(event: EventInput, meta: EventMeta): string {
    // A toJSON() that returns undefined would drop the column.
    return guarded(event.event, () => JSON.stringify(propertiesJson(event.properties, meta.requestId) ?? "{}"));
  }
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
