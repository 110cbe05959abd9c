import Database from "../helpers/sqlite-file.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsForward } from "../../src/index.js";
import { startChild, type Child } from "../helpers/child.js";
import { DatasetteServer } from "../helpers/datasette.js";
import { rowIds, startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy.js";
import { startStatsdReceiver, type StatsdReceiver } from "../helpers/statsd-receiver.js";
import { waitFor } from "../helpers/wait.js";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");

let ds: DatasetteServer;
let statsd: StatsdReceiver;
const children: Child[] = [];
const proxies: RecordingProxy[] = [];

beforeAll(async () => {
  [ds, statsd] = await Promise.all([DatasetteServer.start(), startStatsdReceiver()]);
});
afterAll(async () => {
  for (const child of children) child.process.kill("SIGKILL");
  await Promise.all([...proxies.map((proxy) => proxy.close()), statsd?.close()]);
  await ds?.dispose();
});

const outboxCount = (spool: string) => {
  const db = new Database(spool, { readonly: true });
  try {
    return (db.prepare("select count(*) as n from outbox").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

/** A spool holding `count` events that an app which only writes put there. */
async function spoolWithEvents(name: string, count: number): Promise<string> {
  const spool = join(ds.dir, `${name}-spool.db`);
  const app = eventsForward({ spool, publisher: false, instance: "app-1", logger: false });
  for (let n = 0; n < count; n++) app.put({ event: "from-app", properties: { n } });
  await app.close();
  expect(outboxCount(spool)).toBe(count);
  return spool;
}

/** Starts the sidecar on an INI file with `lines` in the section [event-publisher:main]. */
async function sidecar(
  name: string,
  lines: string[],
  args: string[] = [],
): Promise<{ child: Child; proxy: RecordingProxy }> {
  const proxy = await startRecordingProxy(ds.url);
  proxies.push(proxy);
  const config = join(ds.dir, `${name}.ini`);
  writeFileSync(
    config,
    [
      "[event-publisher:main]",
      `api_url = ${proxy.url}/data/-/create`,
      "api_token = ${SIDECAR_TOKEN}",
      `table = ${name}`,
      ...lines,
    ].join("\n"),
  );
  const child = startChild(CLI, ["publish", "--queue-name", "main", ...args, config], { SIDECAR_TOKEN: ds.rootToken });
  children.push(child);
  return { child, proxy };
}

describe("events-forward publish (the sidecar)", () => {
  it("drains the spool within the rate limit, with --debug lines and statsd metrics; SIGTERM leaves the rest in the spool", async () => {
    const spool = await spoolWithEvents("limited", 60);
    const { child, proxy } = await sidecar(
      "limited",
      [
        `spool = ${spool}`,
        "batch_limit = 20",
        "max_rate = 1",
        "time_period = 3600",
        "metrics.namespace = sidecar.events",
        `metrics.endpoint = ${statsd.endpoint}`,
      ],
      ["--debug"],
    );
    await waitFor(() => proxy.requests[0]?.end !== undefined, { timeoutMs: 20_000, what: "the first batch" });
    await waitFor(() => outboxCount(spool) === 40, { what: "the first batch to leave the spool" });

    child.process.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    // One request an hour: stopping sends nothing more, and the rest waits in the spool.
    expect(proxy.requests).toHaveLength(1);
    expect(outboxCount(spool)).toBe(40);
    expect((await ds.rows("limited")).map((row) => row.id)).toEqual(rowIds(proxy.requests[0]!.body).sort());
    const output = child.output();
    expect(output).toMatch(/publishing queue main/);
    expect(output).toMatch(/debug: sent 20 event\(s\) in \d+ ms/);
    expect(output).toMatch(/stopped: 20 event\(s\) delivered, 40 left in the spool/);
    expect(output).not.toContain(ds.rootToken);
    await waitFor(() => statsd.count("sidecar.events.sent") === 20, { what: "the sent counter" });
    expect(statsd.timings("sidecar.events.post")).toHaveLength(1);
  }, 60_000);

  it("on SIGTERM finishes the batch in flight (delivered, removed from the spool) and sends no other", async () => {
    const spool = await spoolWithEvents("inflight", 60);
    const { child, proxy: front } = await sidecar("inflight", [
      `spool = ${spool}`,
      "batch_limit = 20",
      "time_period = 0",
      "request_timeout_ms = 30000",
    ]);
    const held = front.holdNext();
    await waitFor(() => front.requests.length === 1, { timeoutMs: 20_000, what: "the first batch in flight" });

    child.process.kill("SIGTERM");
    await waitFor(() => child.output().includes("SIGTERM: finishing the batch in flight"), {
      what: "the sidecar to start stopping",
    });
    held.release();
    expect(await child.exited).toBe(0);

    expect(front.requests).toHaveLength(1);
    expect(outboxCount(spool)).toBe(40);
    expect((await ds.rows("inflight")).map((row) => row.id)).toEqual(rowIds(front.requests[0]!.body).sort());
    expect(child.output()).toMatch(/stopped: 20 event\(s\) delivered, 40 left in the spool/);
  }, 60_000);

  it("exits with status 2 and a message naming the problem when the configuration is bad", async () => {
    const config = join(ds.dir, "bad.ini");
    writeFileSync(config, "[event-publisher:main]\nspool = /nonexistent-dir/spool.db\n");
    const child = startChild(CLI, ["publish", "--queue-name", "main", config], {});
    children.push(child);
    expect(await child.exited).toBe(2);
    expect(child.output()).toMatch(
      /option \[event-publisher:main\] spool: cannot use "\/nonexistent-dir\/spool\.db": its directory does not exist/,
    );

    const usage = startChild(CLI, ["publish", config], {});
    children.push(usage);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toMatch(/Usage: events-forward publish --queue-name NAME/);
  }, 60_000);
});
