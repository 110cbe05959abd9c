import { createClient } from "redis";

/**
 * Every start the fleet's rate window records in Redis (`{key}:rate`, a sorted set scored on
 * Redis's clock): the moments the shared limiter granted a request, whichever process asked. The
 * set keeps only the newest maxRate starts, so it is read every 20 ms; a start stays in it until
 * maxRate newer ones came (about a period at the limit). A read that came too late could only miss
 * starts, never add one: pair the count with the requests the store saw.
 */
export async function watchRateWindow(
  url: string,
  key: string,
): Promise<{ starts(): number[]; stop(): Promise<void> }> {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  const seen = new Map<string, number>();
  let stopped = false;
  const read = async () => {
    while (!stopped) {
      const entries = await client.zRangeWithScores(`{${key}}:rate`, 0, -1).catch(() => []);
      for (const { value, score } of entries) seen.set(value, score);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const reading = read();
  return {
    starts: () => [...seen.values()].sort((a, b) => a - b),
    async stop() {
      if (stopped) return;
      stopped = true;
      await reading;
      await client.quit();
    },
  };
}
