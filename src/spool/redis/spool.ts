import { builtin } from "../../core/builtin.js";
import { EventQueueFullError, SpoolUnreachableError, SpoolUnwritableError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { EventQueue, QueuedEvent, QueueStats, Unkept } from "../../pipeline/queue.js";
import { RedisAppends, type Appended } from "./appends.js";
import { batchEnd } from "../../pipeline/batch-cut.js";
import { RedisConnection, RedisRefusal } from "./connection.js";
import { RedisLease } from "./lease.js";
import type { ResolvedRedisSpoolOptions } from "../../config/redis-spool-options.js";
import { spoolKeys, type SpoolKeys } from "./scripts.js";
import type { DropInfo } from "../dead-letters.js";
import { deadLetterKeys } from "./dead-letter-scripts.js";
import { OutboxHistory, type RedisSpoolEvent } from "./history.js";

/** A group this large goes at once, without waiting for groupCommitMs. */
const FULL_GROUP = 1_000;
/** Most events kept in memory while Redis cannot take them: more throw SpoolUnreachableError. */
export const MAX_BUFFERED = 10_000;
/** Pause before a failed append is tried again. */
const RETRY_MS = 250;
/** Longest a command may go unanswered (the lease is given up locally long before Redis would). */
const MAX_COMMAND_MS = 2_000;

export interface RedisSpoolSettings {
  /** Whether this process competes for the publisher lease (option `publisher`). */
  publisher: boolean;
  logger: Logger;
}

/**
 * A durable queue in Redis that processes on many hosts share: one outbox list, one publisher
 * lease, one rate window (see scripts.ts). put() only appends to an in-memory group; the group
 * goes to Redis in one script call after at most `groupCommitMs` (group commit). Events leave
 * Redis only when the publisher settled them (delivered, or dropped by the forwarder's policy);
 * a batch in flight when its publisher died is sent again by the next one, with the same ids.
 *
 * While Redis cannot be reached or refuses writes (out of memory), new events wait in memory,
 * up to MAX_BUFFERED, and go when it takes them again; one log line per episode.
 */
export class RedisSpoolQueue implements EventQueue {
  readonly durable = true;
  readonly connection: RedisConnection;
  readonly lease: RedisLease | undefined;
  private readonly keys: SpoolKeys;
  private readonly name: string;
  /** The events put and not yet in Redis, and their appends. */
  private readonly appends: RedisAppends;
  private rounds: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Events in Redis not yet settled by this process (every process's), as of the last answer. */
  private stored = 0;
  private committed = 0;
  /** Where this process stands in the outbox's history: what it settled, what Redis removed, what to move into the dead letters. */
  private readonly history: OutboxHistory;
  /** Redis refused a write or did not answer, and has not taken one since: one log per episode. */
  private failing = false;
  /** The failure was Redis's answer (out of memory...), not a missing answer. */
  private refused = false;
  private problem = "";
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly options: ResolvedRedisSpoolOptions,
    private readonly settings: RedisSpoolSettings,
    connection?: RedisConnection,
  ) {
    this.name = `${options.where} (key ${options.key})`;
    this.keys = spoolKeys(options.key);
    this.connection = connection ?? new RedisConnection(options.url, Math.min(options.leaseMs, MAX_COMMAND_MS));
    this.history = new OutboxHistory(
      this.connection,
      this.keys,
      deadLetterKeys(options.key),
      options.maxDeadLetters,
      settings.logger,
      this.name,
    );
    const writerKey = this.keys.writer(builtin("node:crypto").randomUUID());
    this.appends = new RedisAppends(this.connection, this.keys, writerKey, this.history, options.maxEvents);
    if (settings.publisher) this.lease = new RedisLease(this.connection, this.keys, options.leaseMs);
    void this.beat();
  }

  get size(): number {
    return this.stored + this.buffered;
  }

  get publishing(): boolean {
    return this.lease?.held() ?? false;
  }

  private get buffered(): number {
    return this.appends.buffered;
  }

  push(event: QueuedEvent): void {
    const buffered = this.buffered;
    if (buffered >= MAX_BUFFERED) {
      const problem = this.problem || "Redis takes events slower than the app puts them";
      throw this.failing && !this.refused
        ? new SpoolUnreachableError(this.name, MAX_BUFFERED, problem)
        : new SpoolUnwritableError(this.name, MAX_BUFFERED, problem);
    }
    // The fleet's bound as of the last answer; Redis checks it again, atomically, on append.
    if (this.stored + buffered >= this.options.maxEvents)
      throw new EventQueueFullError(this.options.maxEvents, undefined, "spool.maxEvents");
    this.appends.add(event);
    if (this.appends.waiting >= FULL_GROUP && !this.failing) void this.commit();
    else if (this.commitTimer === undefined) this.armCommit(this.failing ? RETRY_MS : this.options.groupCommitMs);
  }

  async take(maxCount: number, maxBytes: number): Promise<QueuedEvent[]> {
    if (!this.publishing) return [];
    // Our own newest events go first: the read then sees them. Awaited, not only sent first on
    // the same connection: a script Redis does not have cached yet (NOSCRIPT, after a restart)
    // is sent again as EVAL, behind the read.
    if (this.buffered > 0) await this.commit();
    let reply: unknown[];
    try {
      reply = (await this.front(maxCount, maxBytes)) as unknown[];
    } catch (error) {
      // Logged once per episode here; the forwarder backs off, and gives the lease up if it goes on.
      this.failed(error);
      throw error;
    }
    // The lease may have run out while the read was on its way: then another process may send these.
    if (!this.publishing) return [];
    const first = Number(reply[0]);
    const epoch = String(reply[3]);
    // Redis cut the batch by bytes already (FRONT reads in chunks up to maxBytes); the shared cut keeps the contract.
    const batch: RedisSpoolEvent[] = [];
    for (let i = 4; i < reply.length; i++) {
      const json = String(reply[i]);
      batch.push({ json, bytes: Buffer.byteLength(json), seq: first + i - 4, epoch });
    }
    return batch.slice(0, batchEnd(batch, 0, batch.length, maxBytes));
  }

  settle(batch: readonly QueuedEvent[]): Promise<void> {
    const last = batch.at(-1) as RedisSpoolEvent | undefined;
    if (last === undefined || !this.history.settle(last)) return Promise.resolve();
    this.stored = Math.max(0, this.stored - batch.length);
    // Removed from Redis by the next take (one round trip for both), or by this timer if none comes.
    if (this.ackTimer === undefined && !this.closed) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = undefined;
        if (this.history.unacknowledged) this.front(0).catch((error: unknown) => this.failed(error));
      }, this.options.groupCommitMs);
      this.ackTimer.unref();
    }
    return Promise.resolve();
  }

  /**
   * Keeps a batch the forwarder gives up on (it calls settle() next, if this resolves true) as
   * dead letters: they move from the outbox into the dead letters in one script that also removes
   * them, so a crash never leaves them in both or in neither. False when the move could not be
   * made: the batch stays queued and is tried again. Events that never reached Redis have nothing
   * to move (onDrop and the log still report them).
   */
  async keepDead(events: readonly QueuedEvent[], info: DropInfo): Promise<boolean> {
    try {
      return await this.history.keepDead(events, info);
    } catch (error) {
      this.failed(error);
      return false;
    }
  }

  /** Sends every buffered group to Redis; stops at the first that fails (it is retried, the events stay in memory). */
  commit(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.rounds ??= this.appendAll().finally(() => (this.rounds = undefined));
    return this.rounds;
  }

  onAvailable(wake: () => void): void {
    this.wake = wake;
  }

  stats(): QueueStats {
    return { spooled: this.committed, buffered: this.buffered, publisher: this.publishing };
  }

  /** Reads failed again and again: another process may take the lease (it comes back here after leaseMs if none does). */
  async standDown(): Promise<void> {
    if (this.lease === undefined || this.closed) return;
    await this.lease.standDown().catch(() => {}); // unanswered: the lease ends by itself (held() is false already)
    this.settings.logger.warn(
      `spool ${this.name}: reading it failed repeatedly; gave the publisher lease up for another process`,
    );
  }

  /** Sends what is buffered, removes what was settled, gives the lease up; returns what never reached Redis. */
  async close(): Promise<Unkept | undefined> {
    if (this.closed) return undefined;
    this.closed = true;
    clearTimeout(this.heartbeat);
    clearTimeout(this.ackTimer);
    await this.commit();
    clearTimeout(this.commitTimer);
    // Acknowledge before releasing (same connection, in this order): the next holder must not resend.
    const ack = this.history.unacknowledged ? this.front(0) : Promise.resolve();
    // Handled at once: it may fail while the acknowledgement is still waited for.
    const release = this.lease
      ?.release()
      .catch((error: unknown) =>
        this.settings.logger.warn(
          `spool ${this.name}: could not give the publisher lease up (it expires by itself): ${(error as Error).message}`,
        ),
      );
    await ack.catch(() => {});
    await release;
    await this.connection.close();
    // A group whose append went unanswered may be in Redis (then it is delivered) or not: unknown.
    const { unknown, never } = this.appends.takeLeft();
    if (unknown.length + never.length === 0) return undefined;
    const parts = [
      unknown.length > 0 &&
        `${unknown.length} event(s) whose append got no answer may be in the spool (then they are delivered) or not`,
      never.length > 0 &&
        (unknown.length > 0 ? `${never.length} event(s) never reached it` : "the events never reached it"),
    ].filter(Boolean);
    return {
      events: [...unknown, ...never],
      reason: `closed while the spool ${this.name} could not take them (${this.problem}): ${parts.join("; ")}`,
    };
  }

  private async appendAll(): Promise<void> {
    while (this.buffered > 0) {
      if (!(await this.appendOnce())) return;
    }
  }

  /** One group to Redis; false when it did not all go in (Redis failed, or the spool is full): a retry is armed. */
  private async appendOnce(): Promise<boolean> {
    let result: Appended;
    try {
      result = await this.appends.appendNext();
    } catch (error) {
      this.failed(error);
      this.armCommit(RETRY_MS);
      return false;
    }
    this.stored = result.stored;
    this.committed += result.appended;
    // Out of memory, small appends may get in between refusals: the episode ends once all did.
    if (!this.refused || this.buffered === 0) this.recovered();
    if (result.all) return true;
    this.armCommit(this.options.pollMs);
    return false;
  }

  /**
   * Removes what was settled (moving dropped batches into the dead letters first); reads `count`
   * events after it, `maxBytes` of them at most (at least one).
   */
  private async front(count: number, maxBytes = 0): Promise<unknown> {
    await this.history.moveDead();
    const through = this.history.ackThrough();
    const epoch = this.history.epoch;
    const bound = Number.isFinite(maxBytes) ? maxBytes : 0;
    const reply = (await this.connection.run(
      "front",
      [this.keys.events, this.keys.base, this.keys.epoch],
      [through, this.history.settledThrough + 1, count, ...this.history.args(), bound],
    )) as unknown[];
    const now = String(reply[3]);
    // Only in the same history did this acknowledgement remove anything.
    if (now === epoch) this.history.acked(now, through);
    this.stored = this.history.observe(now, Number(reply[2]), Number(reply[1]));
    return reply;
  }

  /** The heartbeat: renew or take the lease, remove what was settled, see what others wrote. */
  private async beat(): Promise<void> {
    try {
      const took = (await this.lease?.refresh()) ?? false;
      if (took) this.settings.logger.debug?.(`spool ${this.name}: this process is now the publisher`);
      await this.front(0);
      // Redis answers; whether it takes writes again only an append can tell.
      if (this.buffered === 0 && !this.refused) this.recovered();
      if (this.publishing && (took || this.stored > 0)) this.wake?.();
    } catch (error) {
      this.failed(error);
    }
    if (this.closed) return;
    this.heartbeat = setTimeout(() => void this.beat(), this.options.pollMs);
    this.heartbeat.unref();
  }

  private failed(error: unknown): void {
    this.problem = (error as Error).message;
    this.refused = error instanceof RedisRefusal;
    if (this.failing || this.closed) return;
    this.failing = true;
    const what = this.refused ? "refuses writes" : "cannot be reached";
    this.settings.logger.error(
      `spool ${this.name} ${what}: ${this.problem}; up to ${MAX_BUFFERED} new events wait in memory (more are refused) and go when it takes them; retrying`,
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.settings.logger.warn(`spool ${this.name} takes events again`);
  }

  private armCommit(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.commitTimer);
    this.commitTimer = setTimeout(() => void this.commit(), ms);
    this.commitTimer.unref();
  }
}
