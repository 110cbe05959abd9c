// A spool on a 2 MB disk: its write-ahead log must not fill the disk (SQLite's default
// checkpoint at ~4 MB of log would, and then nothing could be written again). Mounts a tmpfs
// (as root, or in an unprivileged user namespace: test/faults/disk-tests.ts; where neither works it fails, it does not skip).
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forwardTo, logged } from "../helpers/forward-to.js";
import { TestStore } from "../helpers/test-store.js";
import { mountTmpfs, type Tmpfs } from "../helpers/tmpfs.js";
import { waitFor } from "../helpers/wait.js";

let dir: string;
let tmpfs: Tmpfs | undefined;

beforeAll(() => {
  tmpfs = mountTmpfs("2m", "small-disk test");
  dir = tmpfs.path;
});

afterAll(() => {
  tmpfs?.release();
});

test("a spool on a 2 MB disk passes 6 MB of events through without filling it", async () => {
  const store = await new TestStore().start();
  const spool = join(dir, "spool.db");
  const h = forwardTo(store, { batchLimit: 50, spool: { path: spool, groupCommitMs: 5, leaseMs: 300, pollMs: 50 } });
  try {
    await waitFor(() => h.events.stats().publisher === true, { what: "the publisher lease" });
    let largestLog = 0;
    // 6000 events of ~1 KB; at most ~500 wait at a time, so the outbox itself stays small.
    for (let i = 0; i < 6_000; i++) {
      h.events.put({ event: `e-${i}`, properties: { pad: "x".repeat(1_000) } });
      if (i % 100 === 99) {
        await waitFor(() => h.events.stats().queued < 400 || logged(h, /cannot be written/).length > 0, {
          what: "delivery keeping up",
        });
        largestLog = Math.max(largestLog, statSync(`${spool}-wal`).size);
      }
    }
    await waitFor(() => h.events.stats().queued === 0, { what: "every event delivered" });
    expect(logged(h, /cannot be written|heartbeat failed/)).toEqual([]);
    expect(h.events.stats()).toMatchObject({ sent: 6_000, overflowed: 0, dropped: 0 });
    expect(store.table.size).toBe(6_000);
    expect(largestLog).toBeLessThan(1_200_000);
  } finally {
    await h.events.close({ timeoutMs: 100 });
    await store.stop();
  }
});
