import { lstatSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { eventsForward, OptionError, type EventsForwardOptions } from "../../src/index.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { useLoopbackStore } from "../helpers/forward-to.js";

// Issue 28, item 6: the package's files hold every event (and a spool's lease): only their owner
// may read them, and a symbolic link put in their place must not redirect them.

const tempDir = useTempDirs();
const t = useLoopbackStore();
const MODE_BITS = 0o777;

function modeOf(path: string): number {
  return statSync(path).mode & MODE_BITS;
}

/** The file and its -wal and -shm, each created 0600 whatever the umask. */
function expectPrivate(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    expect(existsSync(file), file).toBe(true);
    expect(modeOf(file).toString(8), file).toBe("600");
  }
}

function refusal(options: EventsForwardOptions): OptionError {
  try {
    void eventsForward({ logger: false, requestEvents: false, ...options }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error("no OptionError");
}

describe("the package's files", () => {
  test("a spool, its dead letters, an embedded store and a deadLetter file are created 0600, -wal and -shm too", async () => {
    const previous = process.umask(0o022);
    try {
      const dir = tempDir();
      const spool = join(dir, "spool.db");
      t.store.behave = () => ({ status: 400, body: "no" }); // every event a dead letter
      const spooled = t.forward({ spool: { path: spool, pollMs: 10 } });
      spooled.events.put({ event: "dead" });
      await spooled.events.flush();
      expectPrivate(spool);

      const deadLetter = join(dir, "dead.db");
      const plain = t.forward({ deadLetter });
      plain.events.put({ event: "dead" });
      await plain.events.flush();
      expectPrivate(deadLetter);

      const database = join(dir, "events.db");
      const embedded = eventsForward({ database, logger: false, requestEvents: false });
      embedded.put({ event: "kept" });
      await embedded.flush();
      expectPrivate(database);
      await embedded.close();
    } finally {
      process.umask(previous);
    }
  });

  test("a symbolic link in a file's place is refused at start-up, naming the option", () => {
    const dir = tempDir();
    const target = join(dir, "elsewhere.db");
    writeFileSync(target, "");
    const link = join(dir, "link.db");
    symlinkSync(target, link);
    expect(refusal({ spool: link, publisher: false }).option).toBe("spool");
    expect(refusal({ spool: { path: link }, publisher: false }).message).toContain("symbolic link");
    expect(refusal({ database: link }).option).toBe("database");
    // Nothing was written through the link.
    expect(statSync(target).size).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test("a symbolic link in place of the -wal file is refused too", () => {
    const dir = tempDir();
    const spool = join(dir, "spool.db");
    symlinkSync(join(dir, "stolen-wal"), `${spool}-wal`);
    expect(refusal({ spool, publisher: false }).message).toContain("symbolic link");
    expect(existsSync(join(dir, "stolen-wal"))).toBe(false);
  });

  test("allowSymlinks: true lets a link be used", async () => {
    const dir = tempDir();
    const target = join(dir, "real.db");
    const link = join(dir, "link.db");
    symlinkSync(target, link);
    const events = eventsForward({ spool: link, publisher: false, allowSymlinks: true, logger: false });
    events.put({ event: "through the link" });
    await events.flush();
    await events.close();
    expect(statSync(target).size).toBeGreaterThan(0);
  });
});
