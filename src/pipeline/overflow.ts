import type { Logger } from "../core/log.js";

/**
 * Reports a full queue once per episode, not once per refused event. An episode starts with the
 * first refused event and ends when the queue accepts an event again; its end is reported with
 * how many events it refused, so every loss is accounted for in the log as well as in stats().
 */
export class OverflowReporter {
  private refusedInEpisode = 0;
  private startedAt = 0;
  total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly storeName: string,
  ) {}

  get inEpisode(): boolean {
    return this.refusedInEpisode > 0;
  }

  /** `until`: what ends the episode; by default the store catching up with the queue. */
  refused(why: string, until = `${this.storeName} catches up`): void {
    this.total++;
    if (this.refusedInEpisode++ > 0) return;
    this.startedAt = Date.now();
    this.logger.error(`${why}: refusing events until ${until} (reported once until the queue accepts events again)`);
  }

  accepted(): void {
    if (this.refusedInEpisode === 0) return;
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.logger.warn(`queue accepts events again: ${this.refusedInEpisode} event(s) were refused over ${seconds} s`);
    this.refusedInEpisode = 0;
  }
}
