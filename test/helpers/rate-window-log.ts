import { createClient } from "redis";
import Database from "./sqlite-file.js";

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

/**
 * The same for a SQLite spool: the lease row's `sends` (the newest maxRate starts, on the granting
 * process's clock: one host, one clock), read every 20 ms.
 */
export function watchSpoolRateWindow(path: string): { starts(): number[]; stop(): Promise<void> } {
  let db: Database | undefined;
  const seen = new Set<number>();
  const timer = setInterval(() => {
    try {
      db ??= new Database(path, { readonly: true });
      const row = db.prepare("SELECT sends FROM lease WHERE id = 1").get() as { sends: string } | undefined;
      for (const start of JSON.parse(row?.sends ?? "[]") as number[]) seen.add(start);
    } catch {
      // Not made yet, or busy: the next read sees what this one missed (a start stays a period).
    }
  }, 20);
  return {
    starts: () => [...seen].sort((a, b) => a - b),
    stop: () => {
      clearInterval(timer);
      db?.close();
      db = undefined;
      return Promise.resolve();
    },
  };
}
