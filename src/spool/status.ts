import type { ReasonCount } from "./dead-letters.js";
import type { Holding } from "../pipeline/observer.js";

/** What `events-forward status` shows: a spool as the processes on it left it. */
export interface SpoolStatus {
  spool: string;
  /** Events in the outbox. */
  waiting: number;
  /** Age of the oldest one, from its `created` time (undefined when none, or when its text has none). */
  oldestAgeMs?: number;
  lease: {
    /** host:pid:tag of the publisher, undefined when nobody holds it. */
    holder?: string;
    host?: string;
    pid?: number;
    /** Since when (ms since the epoch) that process holds it. */
    since?: number;
    /** When it ends unless renewed. */
    expires?: number;
  };
  /** The last request to the store: when, and how it went ("sent", or the reason it failed). */
  lastDelivery?: { at: number; outcome: string };
  /** The publisher holds a batch the store does not take (an outage, a refused token): the answer and since when. */
  holding?: Holding;
  /** Requests started in the current rate window (timePeriod). */
  requestsInWindow: number;
  deadLetters: ReasonCount[];
  /** The last request that failed: when, and the store's reason (a Redis spool records it). */
  lastFailure?: { at: number; outcome: string };
}

/** Reads a spool's status for the CLI; only the SQLite spool has one (spool/sqlite/status.ts), the Redis spool none yet. */
export interface SpoolInspector {
  status(periodMs: number, now?: number): Promise<SpoolStatus>;
  close(): Promise<void>;
}

/** The age of an event from its `created` field (Datasette rows); undefined when it has none. */
export function ageOf(json: string, now: number): number | undefined {
  try {
    const created = (JSON.parse(json) as { created?: unknown }).created;
    const at = typeof created === "string" || typeof created === "number" ? new Date(created).getTime() : Number.NaN;
    return Number.isNaN(at) ? undefined : Math.max(0, now - at);
  } catch {
    return undefined;
  }
}
