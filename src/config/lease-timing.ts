import { OptionError } from "../core/errors.js";
import type { OptionReader } from "../core/checks.js";

/**
 * `leaseMs` and `pollMs`, shared by both spools. The holder renews its lease on the heartbeat
 * (every pollMs): a pollMs as long as the lease would let it run out between two beats, and a
 * second process would take it while the first still sends.
 */
export function readLeaseTiming(read: OptionReader): { leaseMs: number; pollMs: number } {
  const leaseMs = read.int("leaseMs", 100, 3_600_000);
  const pollMs = read.int("pollMs", 1, 3_600_000);
  if (pollMs >= leaseMs) {
    const how = read.has("pollMs") ? "" : " (the default)";
    throw new OptionError(
      "spool.pollMs",
      `must be less than spool.leaseMs (${leaseMs}), got ${pollMs}${how}: the publisher renews its lease every pollMs, so it would lapse between two renewals`,
    );
  }
  return { leaseMs, pollMs };
}
