import diagnosticsChannel from "node:diagnostics_channel";

/**
 * When this process's forwarders started each request (Date.now()), from the forwarder's own
 * `tracing:events-forward:send:start` channel: published in the same turn as the rate limit
 * records the start, so these times are the limiter's own, with no latency in between.
 */
export function watchForwarderStarts(): { starts: number[]; stop(): void } {
  const starts: number[] = [];
  const channel = diagnosticsChannel.channel("tracing:events-forward:send:start");
  const onStart = () => starts.push(Date.now());
  channel.subscribe(onStart);
  return { starts, stop: () => channel.unsubscribe(onStart) };
}

/**
 * Fails unless at most `maxRate` of `starts` fall in any window of `periodMs`, give or take
 * `slackMs`. With the forwarder's own start times (watchForwarderStarts) the limiter's decision
 * and the record are one turn of the loop: 2 ms covers the rounding of Date.now(). Times seen
 * elsewhere (undici's report, a proxy's arrivals, other processes) need the slack their path adds.
 */
export function assertRate(starts: number[], maxRate: number, periodMs: number, slackMs = 2): void {
  for (let i = maxRate; i < starts.length; i++) {
    const span = starts[i]! - starts[i - maxRate]!;
    if (span < periodMs - slackMs)
      throw new Error(`requests ${i - maxRate} and ${i} started ${span} ms apart, under the ${periodMs} ms period`);
  }
}
