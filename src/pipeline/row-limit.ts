import type { Logger } from "../core/log.js";
import type { Failure } from "./sink.js";

/**
 * The most events one batch carries: batchLimit, lowered for good once the store refuses a batch
 * for its row count and names the most it takes (Datasette's max_insert_rows setting).
 */
export class RowLimit {
  private learned = Number.POSITIVE_INFINITY;

  constructor(
    private readonly batchLimit: number,
    private readonly logger: Logger,
    /** The store, as logs name it. */
    private readonly store: string,
  ) {}

  get value(): number {
    return Math.min(this.batchLimit, this.learned);
  }

  /**
   * The batch cut into chunks the store takes, when `failure` refused it for holding more rows than
   * that; undefined for any other failure. Warns once for each lower limit it learns.
   */
  cut<T>(batch: readonly T[], failure: Failure): T[][] | undefined {
    const rows = failure.maxRows;
    // A store that refuses a batch no larger than its own limit says something else is wrong.
    if (rows === undefined || rows < 1 || rows >= batch.length) return undefined;
    if (rows < this.learned) {
      this.learned = rows;
      this.logger.warn(
        `${this.store} accepts at most ${rows} rows per write (its max_insert_rows setting); batches are cut to ${rows} rows: lower batchLimit, or raise max_insert_rows`,
      );
    }
    const chunks: T[][] = [];
    for (let start = 0; start < batch.length; start += rows) chunks.push(batch.slice(start, start + rows));
    return chunks;
  }
}
