import { openSqlite, type SqliteDatabase } from "../../core/sqlite-open.js";
import type { ForwarderObserver, Holding } from "../../pipeline/observer.js";
import type { SendResult } from "../../pipeline/sink.js";
import { SqliteDeadLetters } from "./dead-letters.js";
import { checkIsSpool, createSpool } from "./schema.js";
import { ageOf, type SpoolInspector, type SpoolStatus } from "../status.js";

interface LeaseRow {
  holder: string | null;
  expires: number;
  sends: string;
  since: number | null;
  last_at: number | null;
  last_outcome: string | null;
  holding: string | null;
  holding_since: number | null;
}

const RETRY_AFTER_FAILURE_MS = 10_000;

/** Reads a SQLite spool for `events-forward status` (readers never block the writers: WAL). */
export class SqliteSpoolInspector implements SpoolInspector {
  private readonly db: SqliteDatabase;
  private readonly deadLetters: SqliteDeadLetters;

  constructor(private readonly path: string) {
    // The operator names the file on the command line (or in the sidecar's configuration): a link is theirs.
    this.db = openSqlite("--spool", path, { check: checkIsSpool, init: createSpool, allowSymlink: true });
    this.deadLetters = new SqliteDeadLetters(path, Number.MAX_SAFE_INTEGER, { warn() {}, error() {} }, "--spool", true);
  }

  async status(periodMs: number, now = Date.now()): Promise<SpoolStatus> {
    const { n } = this.db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number };
    const oldest = this.db.prepare("SELECT json FROM outbox ORDER BY seq LIMIT 1").get() as
      { json: string } | undefined;
    const lease = this.db
      .prepare(
        "SELECT holder, expires, sends, since, last_at, last_outcome, holding, holding_since FROM lease WHERE id = 1",
      )
      .get() as LeaseRow | undefined;
    const held = lease?.holder != null && lease.expires > now;
    const [host, pid] = held ? lease.holder!.split(":") : [];
    return {
      spool: this.path,
      waiting: n,
      oldestAgeMs: oldest === undefined ? undefined : ageOf(oldest.json, now),
      lease: held
        ? { holder: lease.holder!, host, pid: Number(pid), since: lease.since ?? undefined, expires: lease.expires }
        : {},
      lastDelivery: lease?.last_at == null ? undefined : { at: lease.last_at, outcome: lease.last_outcome ?? "" },
      holding: held ? readHolding(lease) : undefined,
      requestsInWindow: startsIn(lease?.sends, now - periodMs),
      deadLetters: await this.deadLetters.byReason(),
    };
  }

  async close(): Promise<void> {
    await this.deadLetters.close();
    this.db.close();
  }
}

/**
 * The publisher's side: writes the outcome of each request into the lease row, for `status`.
 * Opened on the first request, so processes that only write to the spool never open it.
 */
export class SqliteDeliveryLog implements ForwarderObserver {
  private db: SqliteDatabase | undefined;
  /** When a write last failed: the log then rests a while rather than slow every request. */
  private failedAt = 0;

  constructor(
    private readonly path: string,
    /** Option allowSymlinks. */
    private readonly allowSymlink = false,
  ) {}

  onRequest(result: SendResult): void {
    this.write("UPDATE lease SET last_at = ?, last_outcome = ? WHERE id = 1", [
      Date.now(),
      result.ok ? "sent" : result.reason.slice(0, 500),
    ]);
  }

  /** A turn that failed before any request (a read of the spool that threw) is the last outcome too. */
  onTurnFailed(failures: number, reason: string): void {
    this.write("UPDATE lease SET last_at = ?, last_outcome = ? WHERE id = 1", [
      Date.now(),
      `the forwarder's turn failed ${failures} time(s) in a row: ${reason}`.slice(0, 500),
    ]);
  }

  /** Always written (not rested): a status that says "holding" after the store came back would mislead. */
  onHolding(holding: Holding | undefined): void {
    this.write(
      "UPDATE lease SET holding = ?, holding_since = ? WHERE id = 1",
      holding === undefined ? [null, null] : [`${holding.answer}\t${holding.reason.slice(0, 500)}`, holding.since],
      true,
    );
  }

  private write(sql: string, values: unknown[], always = false): void {
    if (!always && this.failedAt !== 0 && Date.now() - this.failedAt < RETRY_AFTER_FAILURE_MS) return;
    try {
      this.db ??= openSqlite("spool", this.path, {
        check: checkIsSpool,
        init: createSpool,
        allowSymlink: this.allowSymlink,
      });
      this.db.prepare(sql).run(...values);
      this.failedAt = 0;
    } catch {
      // Only the status view loses (a full disk, say): try again later.
      this.failedAt = Date.now();
    }
  }

  onRequestStart(): void {}
  onSent(): void {}
  onDrop(): void {}
  onOverflow(): void {}

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}

/** The holding state as the publisher wrote it: `holding` holds the answer, then a tab, then the reason. */
function readHolding(lease: LeaseRow): Holding | undefined {
  if (lease.holding == null) return undefined;
  const tab = lease.holding.indexOf("\t");
  return tab === -1
    ? { answer: lease.holding, reason: lease.holding, since: lease.holding_since ?? 0 }
    : { answer: lease.holding.slice(0, tab), reason: lease.holding.slice(tab + 1), since: lease.holding_since ?? 0 };
}

function startsIn(sends: string | undefined, from: number): number {
  try {
    const starts: unknown = JSON.parse(sends ?? "[]");
    return Array.isArray(starts) ? starts.filter((t) => typeof t === "number" && t > from).length : 0;
  } catch {
    return 0;
  }
}
