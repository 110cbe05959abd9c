import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventsForward, OptionError } from "../../src/index.js";
import { readPublisherConfig, withIniKeys } from "../../src/config/ini.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();

/** What the sidecar does with a section: read it, then build the forwarder; the error it would print. */
function sidecarError(section: string, env: NodeJS.ProcessEnv = {}): string {
  const dir = tempDir();
  const path = join(dir, "p.ini");
  writeFileSync(
    path,
    `[event-publisher:main]\nspool = ${join(dir, "spool.db")}\napi_url = http://127.0.0.1:1/db/-/create\n${section}\n`,
  );
  try {
    const config = readPublisherConfig(path, "main", env);
    const events = withIniKeys(config, () => eventsForward({ ...config.options, logger: false }));
    void events.close({ timeoutMs: 0 });
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return (error as Error).message;
  }
  throw new Error("the section was accepted");
}

describe("the sidecar names the INI key as the user wrote it", () => {
  it.each([
    ["max_rat = 5", "[event-publisher:main] max_rat: is not a known key"],
    ["maxrate = 5", "[event-publisher:main] maxrate: is not a known key (did you mean max_rate?)"],
    ["spool.lease = 5", "[event-publisher:main] spool.lease: is not a known key"],
    ["metrics.host = x", "[event-publisher:main] metrics.host: is not a known key"],
  ])("an unknown key: %s", (line, message) => {
    expect(sidecarError(line)).toContain(message);
  });

  it.each([
    ["max_rate = 0", "[event-publisher:main] max_rate: must be between 1 and"],
    ["batch_limit = 1.5", "[event-publisher:main] batch_limit: must be a whole number"],
    ["spool.lease_ms = 5", "[event-publisher:main] spool.lease_ms: must be between 100 and"],
    ["spool.synchronous = sometimes", '[event-publisher:main] spool.synchronous: must be "normal" or "full"'],
    [
      "metrics.namespace = app.events\nmetrics.endpoint = nowhere",
      "[event-publisher:main] metrics.endpoint: must be host:port",
    ],
    [
      "instance = ${NO_SUCH_VARIABLE}",
      "[event-publisher:main] instance: environment variable NO_SUCH_VARIABLE is not set",
    ],
  ])("a bad value: %s", (line, message) => {
    expect(sidecarError(line)).toContain(message);
  });

  it("names the collector's keys as baseplate writes them", () => {
    const dir = tempDir();
    const path = join(dir, "p.ini");
    writeFileSync(
      path,
      `[event-publisher:main]\nspool = ${join(dir, "s.db")}\ncollector.hostname = 127.0.0.1:1\ncollector.scheme = http\nkey.name = bad name\nkey.secret = c2VjcmV0\n`,
    );
    const config = readPublisherConfig(path, "main", {});
    expect(() => withIniKeys(config, () => eventsForward({ ...config.options, logger: false }))).toThrow(
      /option \[event-publisher:main\] key\.name: must be a non-empty name/,
    );
  });

  it("leaves errors about options that did not come from the file as they are", () => {
    const dir = tempDir();
    const path = join(dir, "p.ini");
    writeFileSync(
      path,
      `[event-publisher:main]\nspool = ${join(dir, "s.db")}\napi_url = http://127.0.0.1:1/db/-/create\n`,
    );
    const config = readPublisherConfig(path, "main", {});
    expect(() => withIniKeys(config, () => eventsForward({ ...config.options, maxQueueSize: -1 }))).toThrow(
      /option maxQueueSize: must be between/,
    );
  });
});
