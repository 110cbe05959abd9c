import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OptionError } from "../../src/index.js";
import { loadPublisherConfig } from "../../src/config/ini.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();

function file(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

const INI = `
; the app's own settings may share the file
[app:main]
port = 8080

[event-publisher:main]
spool = /var/lib/app/events-spool.db
spool.lease_ms = 2000
api_url = https://datasette.example.com/data/-/create
api_token = \${FORWARD_TOKEN}
instance = web-\${SHARD}
batch_limit = 50
max_rate = 2
time_period = 0.5
metrics.namespace = app.events
metrics.endpoint = statsd.local:8125

[event-publisher:other]
spool = /tmp/other.db
`;

describe("the publisher's configuration", () => {
  it("reads the section [event-publisher:NAME] of an INI file into the forwarder's options", () => {
    const options = loadPublisherConfig(file("publisher.ini", INI), "main", {
      FORWARD_TOKEN: "dstok_secret",
      SHARD: "3",
    });
    expect(options).toEqual({
      spool: { path: "/var/lib/app/events-spool.db", leaseMs: 2000 },
      apiUrl: "https://datasette.example.com/data/-/create",
      apiToken: "dstok_secret",
      instance: "web-3",
      batchLimit: 50,
      maxRate: 2,
      timePeriod: 0.5,
      metrics: { namespace: "app.events", endpoint: "statsd.local:8125" },
    });
  });

  it("reads the same key of a JSON file", () => {
    const json = JSON.stringify({
      "event-publisher:main": {
        spool: { path: "/tmp/s.db", groupCommitMs: 10 },
        api_url: "https://d.example/db/-/create",
        apiToken: "${T}",
        max_rate: 3,
      },
    });
    expect(loadPublisherConfig(file("publisher.json", json), "main", { T: "tok" })).toEqual({
      spool: { path: "/tmp/s.db", groupCommitMs: 10 },
      apiUrl: "https://d.example/db/-/create",
      apiToken: "tok",
      maxRate: 3,
    });
  });

  it("names the missing environment variable and the key, never a value", () => {
    const error = catchError(() => loadPublisherConfig(file("p.ini", INI), "main", { SHARD: "1" }));
    expect(error).toBeInstanceOf(OptionError);
    expect(error.message).toBe(
      "events-forward option [event-publisher:main] api_token: environment variable FORWARD_TOKEN is not set",
    );
  });

  it("names the sections it has when the queue's is missing", () => {
    expect(() => loadPublisherConfig(file("p.ini", INI), "nope", {})).toThrow(
      /has no section \[event-publisher:nope\] \(it has \[event-publisher:main\], \[event-publisher:other\]\)/,
    );
  });

  it("requires the spool, and refuses what a file cannot set", () => {
    expect(() =>
      loadPublisherConfig(file("p.ini", "[event-publisher:q]\napi_url = https://x/db/-/create\n"), "q", {}),
    ).toThrow(/\[event-publisher:q\] spool: is required/);
    expect(() =>
      loadPublisherConfig(file("p.ini", "[event-publisher:q]\nspool = s.db\npublisher = false\n"), "q", {}),
    ).toThrow(/publisher: cannot be set/);
    expect(() =>
      loadPublisherConfig(file("p.ini", "[event-publisher:q]\nspool = s.db\nmax_rate = often\n"), "q", {}),
    ).toThrow(/max_rate: must be a number/);
  });

  it("maps the collector keys onto option collector (secrets from the environment)", () => {
    const ini =
      "[event-publisher:q]\nspool = s.db\ncollector.hostname = events.example.com\ncollector.version = 2\nkey.name = k\nkey.secret = ${EVENT_KEY}\n";
    expect(loadPublisherConfig(file("p.ini", ini), "q", { EVENT_KEY: "c2VjcmV0" })).toEqual({
      spool: { path: "s.db" },
      collector: { hostname: "events.example.com", version: "2", keyName: "k", keySecret: "c2VjcmV0" },
    });
    expect(() =>
      loadPublisherConfig(
        file("p.ini", "[event-publisher:q]\nspool = s.db\ncollector.hostname = h\nkey.name = k\n"),
        "q",
        {},
      ),
    ).toThrow(/key\.secret: is missing/);
  });

  it("checks the queue name and the file", () => {
    expect(() => loadPublisherConfig(file("p.ini", INI), "a.b", {})).toThrow(/option --queue-name: must be letters/);
    expect(() => loadPublisherConfig(join(tempDir(), "missing.ini"), "main", {})).toThrow(
      /option CONFIG: cannot read .*missing\.ini/,
    );
    expect(() => loadPublisherConfig(file("p.json", "{ nope"), "main", {})).toThrow(
      /option CONFIG: .*p\.json is not valid JSON/,
    );
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
