import type { ForwarderObserver, Holding } from "../../pipeline/observer.js";
import type { SendResult } from "../../pipeline/sink.js";
import { ageOf, type SpoolInspector, type SpoolStatus } from "../status.js";
import type { RedisConnection } from "./connection.js";
import { RedisDeadLetters } from "./dead-letters.js";
import { spoolKeys, type SpoolKeys } from "./scripts.js";
import { deliveryKey } from "./status-scripts.js";
import type { LeaseHolder } from "./lease.js";

/**
 * The publisher's side: writes the outcome of each request, the last failure and the holding
 * state into `{key}:delivery`, for `status`. One script call a request, not awaited: only the
 * status view loses when Redis does not answer.
 */
export class RedisDeliveryLog implements ForwarderObserver {
  private readonly key: string;

  constructor(
    private readonly connection: RedisConnection,
    spoolKey: string,
  ) {
    this.key = deliveryKey(spoolKey);
  }

  onRequest(result: SendResult): void {
    this.note(result.ok ? "sent" : "failed", result.ok ? "sent" : result.reason.slice(0, 500));
  }

  onHolding(holding: Holding | undefined): void {
    if (holding === undefined) this.note("released", "");
    else this.note("holding", `${holding.answer}\t${holding.reason.slice(0, 500)}`, holding.since);
  }

  onRequestStart(): void {}
  onSent(): void {}
  onDrop(): void {}
  onOverflow(): void {}
  close(): void {}

  private note(what: string, text: string, since = 0): void {
    this.connection.run("noteDelivery", [this.key], [what, text, since]).catch(() => {});
  }
}

/** Reads a Redis spool for `events-forward status`, in one script (a consistent look), plus the dead letters by reason. */
export class RedisSpoolInspector implements SpoolInspector {
  private readonly keys: SpoolKeys;
  private readonly deadLetters: RedisDeadLetters;

  constructor(
    private readonly connection: RedisConnection,
    /** The spool as messages name it: redis://host:port/db (key NAME), never the password. */
    private readonly name: string,
    private readonly key: string,
  ) {
    this.keys = spoolKeys(key);
    this.deadLetters = new RedisDeadLetters(connection, key, undefined, false);
  }

  async status(periodMs: number, now = Date.now()): Promise<SpoolStatus> {
    const reply = await this.inspect(periodMs);
    const [waiting, oldest, leaseValue, leaseMsLeft, starts] = reply;
    const delivery = new Map<string, string>();
    for (let i = 7; i + 1 < reply.length; i += 2) delivery.set(String(reply[i]), String(reply[i + 1]));
    const holder = parseHolder(leaseValue);
    return {
      spool: this.name,
      waiting: Number(waiting),
      oldestAgeMs: typeof oldest === "string" ? ageOf(oldest, now) : undefined,
      lease:
        holder === undefined
          ? {}
          : {
              holder: holder.id,
              host: holder.host,
              pid: holder.pid,
              since: holder.since,
              expires: now + Math.max(0, Number(leaseMsLeft)),
            },
      lastDelivery: at(delivery, "lastAt", "lastOutcome"),
      lastFailure: at(delivery, "failureAt", "failure"),
      holding: holdingOf(delivery),
      requestsInWindow: Number(starts),
      deadLetters: await this.deadLetters.byReason(),
    };
  }

  /** Whether any process ever used this spool (since Redis last lost its data): a mistyped key has no history. */
  async exists(): Promise<boolean> {
    return Number((await this.inspect(0))[6]) === 1;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private inspect(periodMs: number): Promise<unknown[]> {
    return this.connection.run(
      "inspect",
      [this.keys.events, this.keys.lease, this.keys.rate, deliveryKey(this.key), this.keys.epoch],
      [periodMs],
    ) as Promise<unknown[]>;
  }
}

function parseHolder(value: unknown): LeaseHolder | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value) as LeaseHolder;
  } catch {
    return undefined;
  }
}

function at(fields: Map<string, string>, when: string, what: string): { at: number; outcome: string } | undefined {
  const time = fields.get(when);
  return time === undefined ? undefined : { at: Number(time), outcome: fields.get(what) ?? "" };
}

/** The holding state as the publisher wrote it: the answer, a tab, the reason. */
function holdingOf(fields: Map<string, string>): Holding | undefined {
  const text = fields.get("holding");
  if (text === undefined) return undefined;
  const tab = text.indexOf("\t");
  return {
    answer: tab === -1 ? text : text.slice(0, tab),
    reason: tab === -1 ? "" : text.slice(tab + 1),
    since: Number(fields.get("holdingSince") ?? 0),
  };
}
