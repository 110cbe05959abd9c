// A rate-limit slot is taken when its request can leave at once: a first batch that had to load
// the HTTP client after its slot (100 ms or more under load) would reach the store late, close
// behind the next ones, over the rate the store sees (a new publisher after a takeover, say).
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { FAST_RETRY } from "../helpers/fast-options.js";
import { BatchSender } from "../../src/pipeline/batch-sender.js";
import { Counters } from "../../src/pipeline/observer.js";
import type { QueuedEvent } from "../../src/pipeline/queue.js";
import type { RateLimit } from "../../src/pipeline/rate-limit.js";
import { datasetteSink } from "../../src/stores/datasette/sink.js";
import { createTransport, undiciTransport } from "../../src/stores/transport.js";
import { onCleanup, startStore } from "../helpers/lifecycle.js";
import { waitFor } from "../helpers/wait.js";

const batch: QueuedEvent[] = [{ json: '{"id":"01J00000000000000000000000","event":"e"}', bytes: 45 }];
const settings = FAST_RETRY;

describe("the rate limit's slot", () => {
  it("is taken only once the HTTP client is loaded, so the request leaves with it", async () => {
    const store = await startStore();
    let load = () => {};
    const loaded = new Promise<void>((resolve) => (load = resolve));
    let choosing = false;
    const transport = createTransport(async () => {
      choosing = true;
      await loaded;
      return undiciTransport(Agent);
    });
    // Loaded before closing, should the test fail before it loads it: close() waits for the client.
    onCleanup(() => (load(), transport.close()));
    const sink = datasetteSink({ apiUrl: new URL(store.url()), table: "events", requestTimeoutMs: 2_000, transport });
    const slots: string[] = [];
    const rateLimit: RateLimit = {
      delay: () => Promise.resolve(0),
      acquire: () => {
        slots.push(transport.chosen ?? "not loaded");
        return Promise.resolve(0);
      },
    };
    const stopping = new AbortController().signal;
    const sender = new BatchSender({ settings, sink, rateLimit, stopping, observer: new Counters(), waiting: () => 1 });

    const sent = sender.send(batch);
    await waitFor(() => choosing, { what: "the client to start loading" });
    expect(slots).toEqual([]);
    load();
    expect(await sent).toEqual({ ok: true });
    expect(slots).toEqual(["undici"]);
    expect(store.events()).toEqual(["e"]);
  });

  it("a client that fails to load: ready() does not throw, the send reports the failure", async () => {
    const transport = createTransport(() => Promise.reject(new Error("cannot load the client")));
    const sink = datasetteSink({
      apiUrl: new URL("http://127.0.0.1:9/data/-/create"),
      table: "events",
      requestTimeoutMs: 2_000,
      transport,
    });
    await expect(sink.ready!()).resolves.toBeUndefined();
    const stopping = new AbortController().signal;
    expect(await sink.send(batch, stopping)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/cannot load the client/),
    });
  });
});
