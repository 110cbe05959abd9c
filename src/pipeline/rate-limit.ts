/**
 * The rate limit the forwarder applies before every request. The root builds the local one; a
 * spool shared by processes hands the forwarder one that shares the window between them.
 */
export interface RateLimit {
  /** Milliseconds to wait before the next request may start (0: now). */
  delay(): Promise<number>;
  /** A request starts now. */
  record(): Promise<void>;
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

  async record(): Promise<void> {
    this.recordAt(Date.now());
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
