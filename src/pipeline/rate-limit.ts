/**
 * The rate limit the forwarder applies before every request. The root builds the local one; a
 * spool shared by processes hands the forwarder one that shares the window between them.
 */
export interface RateLimit {
  /** Milliseconds to wait before the next request may start (0: now), without taking the slot. */
  delay(): Promise<number>;
  /**
   * Takes a slot for a request starting now and resolves 0, or takes none and resolves the
   * milliseconds to wait. One step: two processes sharing a window never both get its last slot.
   * `force` (flush() and close() lift the limit) takes a slot whatever the window says.
   */
  acquire(force: boolean): Promise<number>;
}

/**
 * At most `maxRate` requests in any `periodMs` window (a sliding log of the last start times).
 */
export class RateLimiter implements RateLimit {
  private starts: number[] = [];

  constructor(
    private readonly maxRate: number,
    private readonly periodMs: number,
  ) {}

  async delay(): Promise<number> {
    return this.delayAt(Date.now());
  }

  async acquire(force: boolean): Promise<number> {
    return this.acquireAt(Date.now(), force);
  }

  /** acquire() at `now`, synchronously. */
  acquireAt(now: number, force: boolean): number {
    const wait = this.delayAt(now);
    if (wait > 0 && !force) return wait;
    this.recordAt(now);
    return 0;
  }

  /** Milliseconds to wait, from `now`, before the next request may start. */
  delayAt(now: number): number {
    if (this.starts.length < this.maxRate) return 0;
    return Math.max(0, this.starts[0]! + this.periodMs - now);
  }

  recordAt(now: number): void {
    this.starts.push(now);
    if (this.starts.length > this.maxRate) this.starts.shift();
  }

  /** The start times it remembers, oldest first (a spool stores them for the next publisher). */
  get recent(): readonly number[] {
    return this.starts;
  }

  /** Continues from start times another process recorded. */
  load(starts: readonly number[]): void {
    this.starts = starts.slice(-this.maxRate);
  }
}
