import { EventError } from "../core/errors.js";
import {
  checkInput,
  describe,
  idText,
  propertiesJson,
  pythonIsoformat,
  pythonIsoformatLength,
  toIsoDate,
  wellFormed,
  type EventInput,
  type EventMeta,
  type Serializer,
} from "./event-input.js";
import {
  flatProperties,
  flatPropertiesColumn,
  CACHE_ENTRY_OVERHEAD,
  MAX_CACHED_NAME_LENGTH,
  rememberKeys,
  writeFlatPropertiesColumn,
  type FlatProperties,
} from "./flat-properties.js";
import { MonotonicUlid, ulidText, writeEncoded40 } from "../core/ids.js";
import type { QueuedEvent } from "../pipeline/queue.js";
import { writeAscii, writeBytes } from "./bytes.js";

const OPEN_ID = Buffer.from('{"id":"');
/** The bytes of the last id head written: the rows of a millisecond share it. */
const heads = { text: "", utf8: new Uint8Array(0) };

function asciiBytes(text: string, last: { text: string; utf8: Uint8Array }): Uint8Array {
  if (text !== last.text) {
    last.text = text;
    last.utf8 = Buffer.from(text, "latin1");
  }
  return last.utf8;
}

/** Row ids come from one factory, so they are monotonic in the process, across forwarders. */
const ids = new MonotonicUlid();

const TWO_20 = 2 ** 20;

/**
 * One millisecond of put() time, shared by the rows put in it: its `created` text's length now,
 * the text and its bytes once a batch needs them. A row points at it rather than holding its own
 * number (a double that does not fit a small integer is a separate heap object per row).
 */
class Millisecond {
  readonly isoLength: number;
  private iso: string | undefined = undefined;
  private isoBytes: Uint8Array | undefined = undefined;

  constructor(readonly ms: number) {
    this.isoLength = pythonIsoformatLength(ms);
  }

  get text(): string {
    this.iso ??= pythonIsoformat(this.ms);
    return this.iso;
  }

  get bytes(): Uint8Array {
    this.isoBytes ??= Buffer.from(this.text, "latin1");
    return this.isoBytes;
  }
}

let lastMillisecond = new Millisecond(0);

function millisecondOf(ms: number): Millisecond {
  if (ms !== lastMillisecond.ms) lastMillisecond = new Millisecond(ms);
  return lastMillisecond;
}

/**
 * A row as the queue holds it. With flat properties, its bytes are written into the batch body
 * from a copy of them (its text is made only if something reads `json`); otherwise its text is
 * made at put() time. Besides that copy it holds only small integers and objects it shares with
 * other rows (its id as a shared head and two 20-bit halves, its millisecond, its segments), so a
 * long queue is cheap to keep and to garbage-collect.
 */
class Row implements QueuedEvent, FlatProperties {
  copy: Record<string, unknown> | undefined = undefined;
  requestId: string | undefined = undefined;
  newKeys = false;
  /** Exact from put() on. */
  bytes: number;
  private text: string | undefined = undefined;

  constructor(
    readonly idHead: string,
    /** The id's low 40 random bits, in two halves that are small integers. */
    private readonly idLowHigh: number,
    private readonly idLowLow: number,
    /** From the id's closing quote to `created`'s value: instance and event. */
    readonly eventSegment: Segment,
    /** When the event was put; `createdText` is the event's own `created`, if it had one. */
    private readonly time: Millisecond,
    private readonly createdText: string | undefined,
    /** From `created`'s closing quote to the properties: actor, database and table. */
    readonly actorSegment: Segment,
    headBytes: number,
  ) {
    this.bytes = headBytes;
  }

  get json(): string {
    if (this.newKeys || this.eventSegment.keep !== undefined) this.accepted();
    if (this.text === undefined) {
      this.text = rowText(this, flatPropertiesColumn(this.copy!, this.requestId));
      this.copy = undefined;
    }
    return this.text;
  }

  /** Its bytes, written from its parts while its text is not made (the batch's usual case). */
  writeTo(into: Buffer, at: number): number {
    if (this.newKeys || this.eventSegment.keep !== undefined) this.accepted();
    if (this.text !== undefined) return at + into.write(this.text, at);
    at = writeBytes(into, at, OPEN_ID);
    at = writeBytes(into, at, asciiBytes(this.idHead, heads));
    at = writeEncoded40(into, at, this.idLow);
    at = writeBytes(into, at, this.eventSegment.utf8);
    at =
      this.createdText === undefined ? writeBytes(into, at, this.time.bytes) : writeAscii(into, at, this.createdText);
    at = writeBytes(into, at, this.actorSegment.utf8);
    at = writeFlatPropertiesColumn(into, at, this.copy!, this.requestId);
    into[at] = 0x7d; // }
    return at + 1;
  }

  /**
   * A row's text or bytes are read only once the queue took it: its new names may now join put()'s
   * caches (an event that was refused never gets here, so it leaves nothing behind).
   */
  private accepted(): void {
    if (this.newKeys && this.copy !== undefined) rememberKeys(this.copy);
    this.newKeys = false;
    this.eventSegment.keep?.();
  }

  /** The properties column made at put() time: the row is complete. */
  complete(propertiesColumn: string): QueuedEvent {
    this.text = rowText(this, propertiesColumn);
    this.bytes = Buffer.byteLength(this.text);
    return this;
  }

  get idLow(): number {
    return this.idLowHigh * TWO_20 + this.idLowLow;
  }

  get created(): string {
    return this.createdText ?? this.time.text;
  }
}

/**
 * Datasette rows as datasette-events-forward writes them: eight columns, a ULID that is monotonic
 * in the process. text() makes the row's text now; queued() is put()'s path, which leaves the
 * text to the batch when the properties are flat (see flat-properties.ts).
 */
export class DatasetteRows {
  private readonly instanceJson: string;
  /**
   * Made once per event name and kept once an event of that name was accepted, within a budget of
   * bytes (names can come from request data): names repeat, and alternate.
   */
  private readonly eventSegments = new Map<string, Segment>();
  private eventSegmentsBytes = 0;
  private actorSegment: Segment & { actorId: string | null; databaseName: unknown; tableName: unknown } = {
    actorId: null,
    databaseName: null,
    tableName: null,
    text: "",
    bytes: 0,
    utf8: new Uint8Array(0),
    keep: undefined,
  };

  constructor(instance: string) {
    this.instanceJson = JSON.stringify(wellFormed(instance));
  }

  /** The same text JSON.stringify would make of the row object, without building the object. */
  text(input: unknown, meta: EventMeta): string {
    const event = checkInput(input);
    // Not through `json`: what the serializer returns may still be refused, so nothing is cached.
    return rowText(this.row(event, meta), this.propertiesColumn(event, meta));
  }

  /** The row as the queue holds it: its exact size now, its text now or when the batch is built. */
  queued(input: unknown, meta: EventMeta): QueuedEvent {
    const event = checkInput(input);
    const row = this.row(event, meta);
    return flatProperties(row, event.properties, meta.requestId, meta.requestIdIsPlain)
      ? row
      : row.complete(this.propertiesColumn(event, meta));
  }

  /** Every column but the properties, and their bytes. */
  private row(event: EventInput, meta: EventMeta): Row {
    const now = Date.now();
    const created = event.created === undefined ? undefined : toIsoDate(event.created);
    const actorId = idText(event.actorId !== undefined ? event.actorId : meta.actorId);
    const named = this.eventSegmentOf(event.event);
    const acted = this.actorSegmentOf(actorId, event.databaseName, event.tableName);
    // {"id":" + the id + ... + }
    const time = millisecondOf(now);
    const bytes = 7 + 26 + named.bytes + (created === undefined ? time.isoLength : created.length) + acted.bytes + 1;
    ids.next(now);
    const high = Math.floor(ids.low / TWO_20);
    return new Row(ids.head, high, ids.low - high * TWO_20, named, time, created, acted, bytes);
  }

  private eventSegmentOf(name: string): Segment {
    let segment = this.eventSegments.get(name);
    if (segment === undefined) {
      segment = segmentOf([
        '","instance":',
        this.instanceJson,
        ',"event":',
        JSON.stringify(wellFormed(name)),
        ',"created":"',
      ]);
      if (name.length <= MAX_CACHED_NAME_LENGTH) segment.keep = () => this.keepEventSegment(name, segment!);
    }
    return segment;
  }

  /** An event of this name was accepted: its segment is kept if the budget has room. */
  private keepEventSegment(name: string, segment: Segment): void {
    segment.keep = undefined;
    const cost = name.length + segment.text.length + segment.bytes + CACHE_ENTRY_OVERHEAD;
    if (this.eventSegments.has(name) || this.eventSegmentsBytes + cost > EVENT_NAMES_BUDGET) return;
    this.eventSegments.set(name, segment);
    this.eventSegmentsBytes += cost;
  }

  /** The last one is kept: the events of one request share their actor. */
  private actorSegmentOf(
    actorId: string | null,
    databaseName: string | null | undefined,
    tableName: string | null | undefined,
  ): Segment {
    const last = this.actorSegment;
    // An empty name is null, as the plugin writes it (`if database_name:`).
    const database = databaseName || null;
    const table = tableName || null;
    if (actorId !== last.actorId || database !== last.databaseName || table !== last.tableName || last.text === "") {
      const actorJson = actorId === null ? "null" : JSON.stringify(wellFormed(actorId));
      const segment = segmentOf([
        '","actor_id":',
        actorJson,
        ',"database_name":',
        nameJson(database),
        ',"table_name":',
        nameJson(table),
        ',"properties":',
      ]);
      this.actorSegment = { actorId, databaseName: database, tableName: table, ...segment };
    }
    return this.actorSegment;
  }

  /** The properties column of a row that is not flat: serialized now. */
  private propertiesColumn(event: EventInput, meta: EventMeta): string {
    // A toJSON() that returns undefined would drop the column.
    return guarded(event.event, () => JSON.stringify(propertiesJson(event.properties, meta.requestId) ?? "{}"));
  }
}

/** The row's text, from a few long pieces: a string made of many short ones costs more to write out. */
function rowText(row: Row, propertiesColumn: string): string {
  return (
    '{"id":"' +
    ulidText(row.idHead, row.idLow) +
    row.eventSegment.text +
    row.created +
    row.actorSegment.text +
    propertiesColumn +
    "}"
  );
}

/** Serialization failures (a getter, a toJSON, a BigInt) become EventErrors naming the event. */
function guarded<T>(name: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof EventError) throw error;
    throw new EventError(`event ${describe(name)} cannot be serialized to JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The default serializer: one Datasette row's text (the `serializer` option's shape). */
export function datasetteRowSerializer(instance: string): Serializer {
  const rows = new DatasetteRows(instance);
  return (input, meta) => rows.text(input, meta);
}

/** A piece of row text, made flat once, its bytes, and its size. */
export interface Segment {
  text: string;
  bytes: number;
  utf8: Uint8Array;
  /** An event name's new segment: keeps it in the cache once an event that uses it is accepted. */
  keep: (() => void) | undefined;
}

/** The bytes of event name segments kept; past this, an app naming events from data pays per event. */
const EVENT_NAMES_BUDGET = 256 * 1024;

function segmentOf(pieces: string[]): Segment {
  const text = pieces.join(""); // join makes a flat string
  const utf8 = Buffer.from(text);
  return { text, bytes: utf8.length, utf8, keep: undefined };
}

/** databaseName and tableName: checkInput let through only strings, null and undefined. */
function nameJson(value: string | null): string {
  return value === null ? "null" : JSON.stringify(wellFormed(value));
}
