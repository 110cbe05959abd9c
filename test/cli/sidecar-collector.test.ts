import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LegacyEvent } from "../../src/collector.js";
import { eventsForward } from "../../src/index.js";
import {
  randomKeyBase64,
  signatureMatches,
  startCollector,
  type TestCollector,
} from "../stores/collector/collector-server.js";
import { startChild, type Child } from "../helpers/child.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait.js";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");
const tempDir = useTempDirs();
const children: Child[] = [];
const collectors: TestCollector[] = [];
afterAll(async () => {
  for (const child of children) child.process.kill("SIGKILL");
  await Promise.all(collectors.map((collector) => collector.close()));
});

/** A test collector, a signing key, and a spool file in a fresh directory. */
async function setUp(): Promise<{ collector: TestCollector; secret: string; dir: string; spool: string }> {
  const collector = await startCollector();
  collectors.push(collector);
  const dir = tempDir();
  return { collector, secret: randomKeyBase64(), dir, spool: join(dir, "spool.db") };
}

describe("the sidecar with the collector keys of baseplate's INI", () => {
  it("delivers legacy events that an app wrote to the spool, signed with the key from the environment", async () => {
    const { collector, secret, dir, spool } = await setUp();
    // The app only writes: its collector options choose the serializer (version 1, legacy events).
    const app = eventsForward({
      collector: { hostname: collector.host, scheme: "http", version: 1, keyName: "TestKey", keySecret: secret },
      spool,
      publisher: false,
      logger: false,
    });
    for (let n = 0; n < 5; n++) app.put(new LegacyEvent("test-topic", "spooled").setField("n", n));
    await app.close();

    const config = join(dir, "publisher.ini");
    writeFileSync(
      config,
      [
        "[event-publisher:legacy]",
        `spool = ${spool}`,
        `collector.hostname = ${collector.host}`,
        "collector.scheme = http",
        "collector.version = 1",
        "key.name = TestKey",
        "key.secret = ${EVENT_KEY}",
      ].join("\n"),
    );
    const sidecar = startChild(CLI, ["publish", "--queue-name", "legacy", config], { EVENT_KEY: secret });
    children.push(sidecar);
    await waitFor(() => collector.requests.length > 0, { timeoutMs: 20_000, what: "a batch at the collector" });

    const [request] = collector.requests;
    expect(request!.path).toBe("/v1");
    expect(signatureMatches(request!.headers["x-signature"], Buffer.from(request!.text), "TestKey", secret)).toBe(true);
    const sent = JSON.parse(request!.text) as Array<{ event_topic: string; payload: { n: number } }>;
    expect(sent.map((event) => [event.event_topic, event.payload.n])).toEqual(
      [0, 1, 2, 3, 4].map((n) => ["test-topic", n]),
    );

    sidecar.process.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.output()).not.toContain(secret);
  }, 30_000);

  it("posts version 2 when the section has no collector.version, as baseplate's publisher", async () => {
    const { collector, secret, dir, spool } = await setUp();
    // The app's options leave the version out too: version 2, Thrift-JSON events.
    const app = eventsForward({
      collector: { hostname: collector.host, scheme: "http", keyName: "TestKey", keySecret: secret },
      spool,
      publisher: false,
      logger: false,
    });
    app.put({ "1": { str: "spooled" } });
    await app.close();

    const config = join(dir, "publisher.ini");
    writeFileSync(
      config,
      [
        "[event-publisher:main]",
        `spool = ${spool}`,
        `collector.hostname = ${collector.host}`,
        "collector.scheme = http",
        "key.name = TestKey",
        "key.secret = ${EVENT_KEY}",
      ].join("\n"),
    );
    const sidecar = startChild(CLI, ["publish", "--queue-name", "main", config], { EVENT_KEY: secret });
    children.push(sidecar);
    await waitFor(() => collector.requests.length > 0, { timeoutMs: 20_000, what: "a batch at the collector" });

    const [request] = collector.requests;
    expect(request!.path).toBe("/v2");
    expect(request!.text).toBe('{"1":{"lst":["rec",1,{"1":{"str":"spooled"}}]}}');
    sidecar.process.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
  }, 30_000);
});
