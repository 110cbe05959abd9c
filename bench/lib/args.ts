/** Command-line switches every benchmark understands: `--quick` for a short run. */
export const quick = process.argv.includes("--quick");

/** Picks the quick or the full value of a setting. */
export function pick<T>(full: T, short: T): T {
  return quick ? short : full;
}

/** Each benchmark ends by printing one `RESULT {json}` line that bench/run.ts collects. */
export interface BenchResult {
  name: string;
  /** Headline numbers, named so the summary can print them. */
  metrics: Record<string, number>;
  /** Each target: what it says, and whether this run met it. */
  targets: { label: string; met: boolean }[];
  notes?: string[];
}

export function report(result: BenchResult): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}
