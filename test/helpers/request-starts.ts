import diagnosticsChannel from "node:diagnostics_channel";

/**
 * When the client started each request to `port` (Date.now(), from undici's own diagnostics
 * channel). The rate limit is about when requests start; the server's clock would add the
 * varying latency of each request.
 */
export function watchRequestStarts(port: number): { starts: number[]; stop(): void } {
  const starts: number[] = [];
  const channel = diagnosticsChannel.channel("undici:request:create");
  const onCreate = (message: unknown) => {
    const origin = String((message as { request: { origin?: unknown } }).request.origin ?? "");
    if (origin.endsWith(`:${port}`)) starts.push(Date.now());
  };
  channel.subscribe(onCreate);
  return { starts, stop: () => channel.unsubscribe(onCreate) };
}

/**
 * Fails unless at most `maxRate` of `starts` fall in any window of `periodMs`, give or take
 * `slackMs`: the limiter decides a moment before undici reports the request, and on a loaded
 * machine a pause (GC, another process) between the two can shift one start by tens of
 * milliseconds. A limiter that does not hold sends back to back, far inside the slack.
 */
export function assertRate(starts: number[], maxRate: number, periodMs: number, slackMs = 75): void {
  for (let i = maxRate; i < starts.length; i++) {
    const span = starts[i]! - starts[i - maxRate]!;
    if (span < periodMs - slackMs)
      throw new Error(`requests ${i - maxRate} and ${i} started ${span} ms apart, under the ${periodMs} ms period`);
  }
}
