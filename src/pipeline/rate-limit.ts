/**
 * At most `maxRate` requests in any `periodMs` window (a sliding log of the last start times).
 */
export class RateLimiter {
  private starts: number[] = [];

  constructor(
    private readonly maxRate: number,
    private readonly periodMs: number,
  ) {}

  /** Milliseconds to wait, from `now`, before the next request may start. */
  delay(now: number): number {
    if (this.starts.length < this.maxRate) return 0;
    return Math.max(0, this.starts[0]! + this.periodMs - now);
  }

  record(now: number): void {
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
