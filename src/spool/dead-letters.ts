import { MALFORMED_EVENT } from "../row/row-check.js";

import type { DeadLetterSink, DropInfo } from "../pipeline/dead-letters.js";

export type { DeadLetterSink, DropInfo };

export interface DeadLetter {
  seq: number;
  json: string;
  /** A short kind to group by: "HTTP 400", "maxAttempts", "retryBudgetMs", "closed", "not kept", "ignored by the store"... */
  reason: string;
  status: number | null;
  answer: string;
  /** Milliseconds since the epoch. */
  at: number;
  attempts: number;
}

export interface DeadLetterFilter {
  /** Only dead letters whose reason or answer contains this text. */
  reason?: string;
  /** Only those kept at or after this time (ms since the epoch). */
  since?: number;
}

export interface ReasonCount {
  reason: string;
  count: number;
  oldest: number;
  newest: number;
  /** One answer of the store, as an example. */
  example: string;
}

/**
 * The dead letters of one spool, for the CLI: SQLite today; a Redis spool implements the same.
 * Every method is asynchronous, as a networked spool's would be.
 */
export interface DeadLetterStore extends DeadLetterSink {
  list(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetter[]>;
  byReason(): Promise<ReasonCount[]>;
  /** Moves the matching dead letters back into the outbox (same text, so same row ids); returns how many. */
  replay(filter?: DeadLetterFilter): Promise<number>;
  /** Deletes the matching dead letters; returns how many. */
  purge(filter?: DeadLetterFilter): Promise<number>;
  close(): Promise<void>;
}

/** The kind of a drop, from the forwarder's reason: what `dead-letters list` groups by. */
export function reasonKind(info: DropInfo): string {
  const { answer, status } = info;
  if (answer.startsWith(MALFORMED_EVENT)) return "malformed";
  if (answer.includes("option maxAttempts")) return "maxAttempts";
  if (answer.includes("option retryBudgetMs")) return "retryBudgetMs";
  if (answer.includes("ignored the row")) return "ignored by the store";
  if (answer.includes("close() deadline")) return "closed";
  if (answer.includes("never reached it")) return "not kept";
  if (answer.includes("got no answer")) return "unknown";
  if (status !== undefined) return `HTTP ${status}`;
  return "other";
}
