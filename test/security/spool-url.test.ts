import { existsSync, rmSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { eventsForward, OptionError } from "../../src/index.js";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";

// Issue 28, item 5: a mistyped Redis URL must not become a SQLite file named with its password,
// nor an error that shows the password.

const PASSWORD = "hunter2-Pa55";
const TYPOS = [
  `redis:${PASSWORD}@redis.internal:6379`, // no slashes: a file of that name, today
  `user:${PASSWORD}@redis.internal:6379`, // no scheme
  ` redis://user:${PASSWORD}@redis.internal:6379`, // a leading space
  `redis://user:${PASSWORD}@redis.internal:6379 `, // a trailing one
  `rediss//user:${PASSWORD}@redis.internal:6379`, // the colon missing
  `redis//:${PASSWORD}@redis.internal`,
  `http://user:${PASSWORD}@redis.internal:6379`, // another scheme
  `redis://user:${PASSWORD}@redis.internal:6379/x`, // not a database number
  `redis://user:${PASSWORD}@:6379`, // no host
];

afterEach(() => {
  for (const typo of TYPOS) rmSync(typo, { force: true });
});

function refusal(spool: unknown): OptionError {
  try {
    void eventsForward({ spool: spool as string, publisher: false, logger: false }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error(`${JSON.stringify(spool)} was taken`);
}

describe("a spool value that looks like a URL but is not a valid redis:// or rediss:// one", () => {
  test.each(TYPOS)("%j is an OptionError naming the option, never the password, and creates no file", (typo) => {
    const error = refusal(typo);
    expect(error.option).toMatch(/^spool(\.url|\.path)?$/);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(encodeURIComponent(PASSWORD));
    expect(existsSync(typo)).toBe(false);
    expect(existsSync(typo.trim())).toBe(false);
  });

  test("the same in the object form, and as spool.url", () => {
    for (const typo of TYPOS) {
      expect(refusal({ path: typo }).message).not.toContain(PASSWORD);
      expect(() => resolveRedisSpoolOptions({ url: typo })).toThrow(OptionError);
      try {
        resolveRedisSpoolOptions({ url: typo });
      } catch (error) {
        expect((error as Error).message).not.toContain(PASSWORD);
      }
    }
  });

  test("file paths, even with a colon or an @, are still paths", () => {
    const { spool } = { spool: "relative/dir/spool@2.db" };
    // Its directory does not exist: the error is about the file, so the value was taken as a path.
    expect(refusal(spool).message).toContain("directory does not exist");
    expect(refusal("/no/such/dir:1/spool.db").message).toContain("directory does not exist");
  });
});
