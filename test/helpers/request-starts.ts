import diagnosticsChannel from "node:diagnostics_channel";

/**
 * When this process's forwarders started each request (Date.now()), from the forwarder's own
 * `tracing:events-forward:send:start` channel. The rate limit records a start when it grants it
 * (acquire), before the batch is taken from the queue: the channel follows by the queue's take(),
 * one await, a few milliseconds on a loaded machine (5 ms seen in CI).
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
 * `slackMs`. With the forwarder's own start times (watchForwarderStarts), 20 ms covers the take()
 * between the limiter's grant and the channel (2% of a 1 s window: a limiter one request too
 * generous would show a whole request's gap). Times seen elsewhere (undici's report, a proxy's
 * arrivals, other processes) need the slack their path adds.
 */
export function assertRate(starts: number[], maxRate: number, periodMs: number, slackMs = 20): void {
  for (let i = maxRate; i < starts.length; i++) {
    const span = starts[i]! - starts[i - maxRate]!;
    if (span < periodMs - slackMs)
      throw new Error(`requests ${i - maxRate} and ${i} started ${span} ms apart, under the ${periodMs} ms period`);
  }
}
