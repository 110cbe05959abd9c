import { describe, expect, test } from "vitest";
import { OptionError } from "../../src/index.js";
import { resolveOptions } from "../../src/config/resolve.js";
import { sectionToOptions } from "../../src/config/ini.js";

// Issue 28, item 7: the rule the Datasette URL follows (no credential over plain text except to
// this machine) holds for the Redis spool's password too.

const PASSWORD = "s3cret-Redis-pw";

function resolved(spool: unknown) {
  return resolveOptions({ spool: spool as string, publisher: false, logger: false });
}

function refusal(spool: unknown): OptionError {
  try {
    resolved(spool);
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error(`${JSON.stringify(spool)} was taken`);
}

describe("a Redis password over plain redis://", () => {
  test.each([
    `redis://:${PASSWORD}@redis.internal:6379/0`,
    `redis://app:${PASSWORD}@10.0.0.7:6379`,
    `redis://app:${PASSWORD}@[fe80::1]:6379`,
    `redis://app@redis.example.com:6379`, // a user name is a credential too (ACL)
  ])("to another machine is refused at start-up: %s", (url) => {
    for (const spool of [url, { url }]) {
      const error = refusal(spool);
      expect(error.option).toBe("spool.url");
      expect(error.message).toContain("rediss://");
      expect(error.message).toContain("spool.allowPrivateNetwork");
      expect(error.message).not.toContain(PASSWORD);
    }
  });

  test("is allowed to loopback, over rediss://, without credentials, and with allowPrivateNetwork: true", () => {
    for (const spool of [
      `redis://:${PASSWORD}@127.0.0.1:6379`,
      `redis://:${PASSWORD}@localhost:6379/1`,
      `redis://:${PASSWORD}@[::1]:6379`,
      `rediss://:${PASSWORD}@redis.example.com:6380`,
      "redis://redis.internal:6379",
      { url: `redis://:${PASSWORD}@redis.internal:6379`, allowPrivateNetwork: true },
    ]) {
      expect(resolved(spool).spool).toMatchObject({ kind: "redis" });
    }
  });

  test("the sidecar's configuration says it as spool.allow_private_network", () => {
    const section = { spool: `redis://:${PASSWORD}@redis.internal:6379`, api_url: "https://d.example/db/-/create" };
    expect(() => resolveOptions({ ...sectionToOptions(section, "event-publisher:main", {}), logger: false })).toThrow(
      /spool\.allowPrivateNetwork/,
    );
    const allowed = sectionToOptions({ ...section, "spool.allow_private_network": true }, "event-publisher:main", {});
    expect(resolveOptions({ ...allowed, logger: false }).spool).toMatchObject({ kind: "redis" });
  });
});
