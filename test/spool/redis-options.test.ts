import { describe, expect, it } from "vitest";
import { OptionError, eventsForward } from "../../src/index.js";
import { resolveOptions } from "../../src/config/resolve.js";
import { sectionToOptions } from "../../src/config/ini.js";
import { resolveRedisSpoolOptions } from "../../src/config/redis-spool-options.js";
import { requireRedis } from "../../src/spool/redis/connection.js";

const SECRET = "pa55-w0rd";

function optionError(run: () => unknown): OptionError {
  try {
    run();
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
  throw new Error("no OptionError");
}

describe("option spool for Redis", () => {
  it("takes a redis:// URL, and names the spool without its password", () => {
    const o = resolveRedisSpoolOptions(`rediss://app:${SECRET}@redis.internal:6380/2`);
    expect(o).toMatchObject({
      kind: "redis",
      key: "events-forward",
      where: "rediss://redis.internal:6380/2",
      groupCommitMs: 5,
      maxEvents: 100_000,
      leaseMs: 5_000,
      pollMs: 250,
    });
    expect(o.url).toContain(SECRET); // for the client only
    expect(resolveRedisSpoolOptions("rediss://redis.internal").where).toBe("rediss://redis.internal");
  });

  it("reads the URL from the environment, and says which variable is missing", () => {
    expect(
      resolveRedisSpoolOptions(
        { url: { $env: "EVENTS_REDIS_URL" }, key: "myapp-events" },
        { EVENTS_REDIS_URL: "redis://r:6379/0" },
      ),
    ).toMatchObject({ url: "redis://r:6379/0", key: "myapp-events" });
    const error = optionError(() => resolveRedisSpoolOptions({ url: { $env: "EVENTS_REDIS_URL" } }, {}));
    expect(error.option).toBe("spool.url");
    expect(error.message).toMatch(/EVENTS_REDIS_URL is not set/);
  });

  it("fails at start-up naming the option, and never repeats a URL that may hold a password", () => {
    const bad: Array<[unknown, string, RegExp]> = [
      [{ url: `redis://:${SECRET}@` }, "spool.url", /is not a valid URL|has no host/],
      [{ url: `http://:${SECRET}@host` }, "spool.url", /must start with redis:\/\/ or rediss:\/\//],
      [{ url: `redis://:${SECRET}@host/zero` }, "spool.url", /database number/],
      [{ url: "redis://host", key: "{tagged}" }, "spool.key", /letters, digits/],
      [{ url: "redis://host", pollMs: 0 }, "spool.pollMs", /between 1 and/],
      [{ url: "redis://host", leaseMs: 1_000, pollMs: 1_000 }, "spool.pollMs", /must be less than spool\.leaseMs/],
      [{ url: "redis://host", leaseMs: 1.5 }, "spool.leaseMs", /whole number/],
      [{ url: "redis://host", path: "/tmp/x.db" }, "spool.path", /not an option of the Redis spool/],
    ];
    for (const [spool, option, problem] of bad) {
      const error = optionError(() => resolveRedisSpoolOptions(spool));
      expect(error.option).toBe(option);
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain(SECRET);
    }
    // eventsForward() itself refuses at once.
    expect(() => eventsForward({ spool: { url: "redis://127.0.0.1:9", maxEvents: 0 }, logger: false })).toThrow(
      /option spool\.maxEvents/,
    );
  });

  it("keeps a path meaning the SQLite spool; a redis:// URL means Redis", () => {
    expect(resolveOptions({ spool: "/var/lib/app/spool.db", database: "/tmp/x.db" }).spool).toMatchObject({
      kind: "sqlite",
    });
    expect(resolveOptions({ spool: "redis://r:6379/0", database: "/tmp/x.db" }).spool).toMatchObject({
      kind: "redis",
      where: "redis://r:6379/0",
    });
    expect(resolveOptions({ spool: "REDISS://r", database: "/tmp/x.db" }).spool).toMatchObject({ kind: "redis" });
  });

  it("comes from the sidecar's INI as spool = ${VAR} and spool.key", () => {
    const options = sectionToOptions(
      {
        spool: "${EVENTS_REDIS_URL}",
        "spool.key": "myapp-events",
        "spool.lease_ms": "2000",
        api_url: "http://d/db/-/create",
      },
      "event-publisher:myapp",
      { EVENTS_REDIS_URL: `redis://:${SECRET}@r:6379/0` },
    );
    expect(options.spool).toEqual({ url: `redis://:${SECRET}@r:6379/0`, key: "myapp-events", leaseMs: 2000 });
    expect(sectionToOptions({ spool: "/var/lib/spool.db" }, "event-publisher:x", {}).spool).toEqual({
      path: "/var/lib/spool.db",
    });
  });
});

describe("redis (node-redis) is optional", () => {
  it("when it is missing, the error names the option and says to npm install redis", () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
    };
    const error = optionError(() => requireRedis("spool", missing));
    expect(error.option).toBe("spool");
    expect(error.message).toBe(
      "events-forward option spool: a redis:// spool needs the optional package redis (node-redis), which is not installed: npm install redis",
    );
  });
});
