// The NestJS example (examples/nest-app.ts) on Nest's Express adapter, served on a loopback port.
import { describe, expect, it } from "vitest";
import { createNestApp } from "../../examples/nest-app.js";
import { onCleanup, startForwarder, startStore } from "../helpers/lifecycle.js";
import { ULID } from "../helpers/row-format.js";

describe("NestJS through its Express adapter", () => {
  it("records Nest's requests with their route patterns, and put() through req.events in a controller", async () => {
    const store = await startStore();
    const events = startForwarder(store.url());
    const app = await createNestApp(events);
    await app.listen(0, "127.0.0.1");
    onCleanup(() => app.close());
    const url = (await app.getUrl()).replace("[::1]", "127.0.0.1");
    const viewed = await (await fetch(`${url}/users/7?x=1`)).json();
    expect(viewed).toEqual({ id: "7", requestId: expect.stringMatching(ULID) });
    expect((await fetch(`${url}/users`, { method: "POST" })).status).toBe(201);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    await app.close(); // the connections are done: every request event is put
    await events.flush();
    const rows = store.deliveredRows();
    expect(rows.map((row) => [row.event, row.properties.route, row.properties.status])).toEqual([
      ["user.viewed", undefined, undefined],
      ["request", "/users/:id", 200],
      ["signup", undefined, undefined],
      ["request", "/users", 201],
      ["request", undefined, 404],
    ]);
    expect(rows[0]!.properties.request_id).toBe(viewed.requestId);
  });
});
