import { EventError } from "./errors.js";
import { checkInput, describe, idText, propertiesJson, toIsoDate, wellFormed, type EventInput, type EventMeta, type Serializer } from "./event.js";
import { flatProperties, flatPropertiesColumn, type FlatProperties } from "./flat-properties.js";
import { MonotonicUlid, ulidText } from "./ids.js";
import type { QueuedEvent } from "./queue.js";

/** Row ids come from one factory, so they are monotonic in the process, across forwarders. */
const ids = new MonotonicUlid();

/** The row's fixed text: every column name and quote, none of the values. */
const FRAME_BYTES =
  '{"id":"","instance":,"event":,"created":"","actor_id":,"database_name":,"table_name":,"properties":}'.length;

/** The length of an ISO 8601 date of this era, as toISOString() writes it. */
const ISO_LENGTH = "2000-01-01T00:00:00.000Z".length;

/**
 * A row as the queue holds it. With flat properties its text is made when first read (in the
 * batch) from a copy of them; otherwise at put() time. Besides that copy it holds only numbers and
 * strings it shares with other rows (its id as a shared head and a number), so a long queue is
 * cheap to keep and to garbage-collect.
 */
class Row implements QueuedEvent, FlatProperties {
  copy: Record<string, unknown> | undefined = undefined;
  requestId: string | undefined = undefined;
  /** Exact from put() on. */
  bytes: number;
  private text: string | undefined = undefined;

  constructor(
    private readonly rows: DatasetteRows,
    readonly idHead: string,
    readonly idLow: number,
    readonly nameJson: string,
    /** When the event was put; `createdText` is the event's own `created`, if it had one. */
    readonly createdMs: number,
    private createdText: string | undefined,
    readonly actorJson: string,
    readonly databaseJson: string,
    readonly tableJson: string,
    headBytes: number,
  ) {
    this.bytes = headBytes;
  }

  get json(): string {
    if (this.text === undefined) {
      this.text = this.rows.rowText(this, flatPropertiesColumn(this.copy!, this.requestId));
      this.copy = undefined;
    }
    return this.text;
  }

  /** The properties column made at put() time: the row is complete. */
  complete(propertiesColumn: string): QueuedEvent {
    this.text = this.rows.rowText(this, propertiesColumn);
    this.bytes = Buffer.byteLength(this.text);
    return this;
  }

  get created(): string {
    this.createdText ??= this.rows.isoAt(this.createdMs);
    return this.createdText;
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
    return this.row(event, meta).complete(this.propertiesColumn(event, meta)).json;
  }

  /** The row as the queue holds it: its exact size now, its text now or when the batch is built. */
  queued(input: unknown, meta: EventMeta): QueuedEvent {
    const event = checkInput(input);
    const row = this.row(event, meta);
    return flatProperties(row, event.properties, meta.requestId) ? row : row.complete(this.propertiesColumn(event, meta));
  }

  rowText(row: Row, propertiesColumn: string): string {
    return (
      `{"id":"${ulidText(row.idHead, row.idLow)}","instance":${this.instanceJson},"event":${row.nameJson},"created":"${row.created}",` +
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

  /** Every column but the properties, and their bytes. */
  private row(event: EventInput, meta: EventMeta): Row {
    const now = Date.now();
    const created = event.created === undefined ? undefined : toIsoDate(event.created);
    const actorId = idText(event.actorId !== undefined ? event.actorId : meta.actorId);
    const name = this.names.json(event.event);
    const actorJson = actorId === null ? "null" : this.actors.json(actorId);
    const databaseJson = nameJson(event.databaseName);
    const tableJson = nameJson(event.tableName);
    const bytes =
      FRAME_BYTES + 26 + this.instanceBytes + this.names.bytes + (created === undefined ? ISO_LENGTH : created.length) +
      (actorId === null ? 4 : this.actors.bytes) + byteLength(databaseJson) + byteLength(tableJson);
    ids.next(now);
    return new Row(this, ids.head, ids.low, name, now, created, actorJson, databaseJson, tableJson, bytes);
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
