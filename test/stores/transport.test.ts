// The transport: undici where the real one loads, else the runtime's fetch (Bun, Workers, edge),
// chosen by what the runtime has, on the first batch, not at import.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { chooseTransport, createTransport, fetchTransport, type ChosenTransport } from "../../src/stores/transport.js";
import { datasetteSink } from "../../src/stores/datasette/sink.js";
import { postBatch } from "../../src/stores/http.js";
import { datasetteRowEvents } from "../../src/row/queued.js";
import { useDatasette } from "../helpers/servers.js";
import { SIGNUP, signupRow } from "../helpers/row-format.js";
import { unreachableUrl } from "../helpers/test-store.js";

const t = useDatasette();

describe("choosing the transport", () => {
  it("takes undici on Node", async () => {
    const transport = await chooseTransport();
    expect(transport.name).toBe("undici");
    await transport.close();
  });

  it("takes fetch where undici does not load (Workers, edge bundles) or is a stand-in without a dispatcher (Bun)", async () => {
    expect((await chooseTransport(async () => undefined)).name).toBe("fetch");
    // What Bun answers for import("undici"): an Agent class with neither request() nor close().
    expect((await chooseTransport(async () => ({ Agent: class {} }))).name).toBe("fetch");
  });

  it("chooses on the first POST, once, and closes only what it chose", async () => {
    let chosen = 0;
    let closed = 0;
    const fake: ChosenTransport = {
      name: "fetch",
      post: async () => ({ status: 201, retryAfter: undefined, body: (async function* () {})() }),
      close: async () => void closed++,
    };
    const idle = createTransport(async () => (chosen++, fake));
    await idle.close();
    expect([chosen, closed, idle.chosen]).toEqual([0, 0, undefined]);

    const used = createTransport(async () => (chosen++, fake));
    const request = { url: new URL("http://127.0.0.1/"), headers: {}, body: "", signal: new AbortController().signal };
    await Promise.all([used.post(request), used.post(request)]);
    expect([chosen, used.chosen]).toEqual([1, "fetch"]);
    await used.close();
    await used.close();
    expect(closed).toBe(1);
  });

  it("starts a request's timeout once the client is loaded: the first batch does not pay for the loading", async () => {
    const slowToLoad = createTransport(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return {
        name: "fetch",
        post: async () => ({ status: 201, retryAfter: undefined, body: (async function* () {})() }),
        close: async () => {},
      };
    });
    const result = await postBatch({
      transport: slowToLoad,
      url: new URL("http://127.0.0.1/"),
      headers: {},
      body: "",
      timeoutMs: 50,
      signal: new AbortController().signal,
      explain: () => "",
    });
    expect(result).toEqual({ ok: true });
  });

  it("loads no HTTP client when the package is imported", async () => {
    // undici sets its global dispatcher when it loads; Node's own fetch does so only when used.
    const script = `await import(${JSON.stringify(new URL("../../src/index.ts", import.meta.url).href)});
      console.log(globalThis[Symbol.for("undici.globalDispatcher.1")] === undefined ? "none" : "loaded");
      await import("undici");
      console.log(globalThis[Symbol.for("undici.globalDispatcher.1")] === undefined ? "none" : "loaded");`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { timeout: 30_000 },
    );
    expect(stdout.trim().split("\n")).toEqual(["none", "loaded"]);
  });
});

describe("the fetch transport", () => {
  it("writes a batch to a real Datasette, and reads its refusals as undici's transport does", async () => {
    const sink = (apiToken: string) =>
      datasetteSink({
        apiUrl: new URL(t.ds.createUrl),
        apiToken,
        table: "fetched",
        requestTimeoutMs: 5_000,
        transport: fetchTransport(),
      });
    const events = [datasetteRowEvents("test-1")(SIGNUP, {})];
    const signal = new AbortController().signal;
    expect(await sink(t.ds.rootToken).send(events, signal, events[0]!.bytes)).toEqual({ ok: true });
    expect(await t.ds.rows("fetched")).toEqual([signupRow("test-1")]);

    const refused = await sink("not-a-token").send(events, signal, events[0]!.bytes);
    expect(refused).toMatchObject({ ok: false, status: 403 });
    expect((refused as { reason: string }).reason).not.toContain("not-a-token");
  });

  it("reads a refused connection as unreachable, to be retried", async () => {
    const sink = datasetteSink({
      apiUrl: new URL(await unreachableUrl()),
      table: "t",
      requestTimeoutMs: 5_000,
      transport: fetchTransport(),
    });
    const events = [datasetteRowEvents("test-1")(SIGNUP, {})];
    expect(await sink.send(events, new AbortController().signal, events[0]!.bytes)).toMatchObject({
      ok: false,
      retry: true,
      unreachable: true,
    });
  });
});
