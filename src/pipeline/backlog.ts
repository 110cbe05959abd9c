import type { Logger } from "../core/log.js";

/** The most the queue holds: events and bytes (Infinity where a queue has no such bound). */
export interface QueueBound {
  events: number;
  bytes: number;
}

/** The queue's bound from the options: a spool's is its maxEvents, the memory queue's maxQueueSize and maxQueueBytes. */
export function queueBound(settings: {
  maxQueueSize?: number;
  maxQueueBytes?: number;
  spool?: { maxEvents: number };
}): QueueBound {
  if (settings.spool !== undefined) return { events: settings.spool.maxEvents, bytes: Number.POSITIVE_INFINITY };
  return {
    events: settings.maxQueueSize ?? Number.POSITIVE_INFINITY,
    bytes: settings.maxQueueBytes ?? Number.POSITIVE_INFINITY,
  };
}

/** batchLimit × maxRate / timePeriod: the events per second the rate limit lets through (Infinity without one). */
export function capacityPerSecond(batchLimit: number, maxRate: number, timePeriod: number): number {
  return timePeriod === 0 ? Number.POSITIVE_INFINITY : (batchLimit * maxRate) / timePeriod;
}

/**
 * Warns once when the queue passes half of its bound (events or bytes), long before it is full
 * and put() throws, and once more when it is back under a quarter: a backlog is an episode, not a
 * line per event. The gap between the two marks keeps a queue hovering at half from flapping.
 */
export class BacklogReporter {
  private backlogged = false;

  constructor(
    private readonly logger: Logger,
    private readonly storeName: string,
    private readonly bound: QueueBound,
    /** The current capacity, in events per second (it drops when the store's row limit is learned). */
    private readonly capacity: () => number,
    /** Hears each change of level too (the diagnostics channel). */
    private readonly report: (level: "high" | "normal", waiting: number, bound: number) => void = () => {},
  ) {}

  /** Called with the queue's fill after every change to it; cheap (it runs in put()). */
  observe(events: number, bytes: number): void {
    if (!this.backlogged) {
      if (events * 2 <= this.bound.events && bytes * 2 <= this.bound.bytes) return;
      this.backlogged = true;
      this.report("high", events, this.bound.events);
      this.logger.warn(
        `${this.storeName} is not keeping up: ${events} events (${bytes} bytes) wait, over half of the queue's bound (${this.describeBound()}); ` +
          `the forwarder carries at most ${formatRate(this.capacity())} (batchLimit × maxRate / timePeriod): ` +
          `raise batchLimit or maxRate, or lower timePeriod, if the store can take more (reported once until the queue is back under a quarter)`,
      );
    } else if (events * 4 < this.bound.events && bytes * 4 < this.bound.bytes) {
      this.backlogged = false;
      this.report("normal", events, this.bound.events);
      this.logger.warn(`${this.storeName} caught up: ${events} events wait, under a quarter of the queue's bound`);
    }
  }

  private describeBound(): string {
    const { events, bytes } = this.bound;
    return Number.isFinite(bytes) ? `${events} events or ${bytes} bytes` : `${events} events`;
  }
}

function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond)
    ? `${Math.round(perSecond * 100) / 100} events/s`
    : "what the store takes (no rate limit: timePeriod 0)";
}
