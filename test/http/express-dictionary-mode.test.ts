import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { setFlagsFromString } from "node:v8";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { EventsForward, EventsForwardOptions } from "../../src/index.js";
import { expressObjectsNeedDictionaryMode, toDictionaryMode } from "../../src/http/express-objects.js";
import { startForwarder, startStore } from "../helpers/lifecycle.js";

// V8's own answer: does this object keep its properties in fast mode (not a hash table)?
setFlagsFromString("--allow-natives-syntax");
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8 natives syntax cannot be written in TypeScript
const hasFastProperties = new Function("object", "return %HasFastProperties(object)") as (object: object) => boolean;

/** What the handler saw of req and res, after the forwarder's middleware ran. */
interface Seen {
  reqFast: boolean;
  resFast: boolean;
  reqKeys: (string | symbol)[];
  resKeys: (string | symbol)[];
  put: boolean;
}

function look(req: IncomingMessage, res: ServerResponse, events: unknown): Seen {
  return {
    reqFast: hasFastProperties(req),
    resFast: hasFastProperties(res),
    reqKeys: Reflect.ownKeys(req),
    resKeys: Reflect.ownKeys(res),
    put: typeof (events as { put?: unknown })?.put === "function",
  };
}

const EXPRESS = [
  { name: "Express 5", make: express },
  { name: "Express 4", make: express4 },
];

function expressApp(make: typeof express, middlewares: EventsForward[], seen: Seen[]): RequestListener {
  const app = make();
  for (const middleware of middlewares) app.use(middleware);
  app.get("/", (req, res) => {
    seen.push(look(req, res, req.events));
    res.send("ok");
  });
  return app;
}

async function forwarder(options: Partial<EventsForwardOptions> = {}): Promise<EventsForward> {
  const store = await startStore();
  return startForwarder(store.url(), options);
}

const ourSymbols = (keys: (string | symbol)[]) =>
  keys.filter((key) => typeof key === "symbol" && key.description?.includes("dictionary-mode"));

describe.each(EXPRESS)("$name's req and res", ({ make }) => {
  it("are in dictionary mode after the middleware where V8 needs it (before V8 13), with nothing left behind", async () => {
    const seen: Seen[] = [];
    const app = expressApp(make, [await forwarder()], seen);
    await request(app).get("/").expect(200);
    await request(app).get("/").expect(200);
    expect(seen).toHaveLength(2);
    for (const one of seen) {
      expect(one.reqFast).toBe(!expressObjectsNeedDictionaryMode());
      expect(one.resFast).toBe(!expressObjectsNeedDictionaryMode());
      expect(one.put).toBe(true);
      expect(ourSymbols(one.reqKeys)).toEqual([]);
      expect(ourSymbols(one.resKeys)).toEqual([]);
    }
  });

  it("stay as Express made them with expressDictionaryMode: false", async () => {
    const seen: Seen[] = [];
    const app = expressApp(make, [await forwarder({ expressDictionaryMode: false })], seen);
    await request(app).get("/").expect(200);
    expect(seen[0]!.reqFast).toBe(true);
    expect(seen[0]!.resFast).toBe(true);
    expect(seen[0]!.put).toBe(true);
  });

  it("keep every property Express and Node gave them, in the same order", async () => {
    const on: Seen[] = [];
    const off: Seen[] = [];
    await request(expressApp(make, [await forwarder()], on))
      .get("/")
      .expect(200);
    await request(expressApp(make, [await forwarder({ expressDictionaryMode: false })], off))
      .get("/")
      .expect(200);
    expect(on[0]!.reqKeys).toEqual(off[0]!.reqKeys);
    expect(on[0]!.resKeys).toEqual(off[0]!.resKeys);
  });
});

describe.each([
  { name: "Koa 3", make: () => new Koa() },
  { name: "Koa 2", make: () => new Koa2() },
])("$name's req and res", ({ make }) => {
  it("are left in fast mode: Koa does not change their prototype", async () => {
    const seen: Seen[] = [];
    const app = make();
    app.use(await forwarder());
    app.use((ctx) => {
      seen.push(look(ctx.req, ctx.res, ctx.events));
      ctx.body = "ok";
    });
    await request(app.callback()).get("/").expect(200);
    expect(seen[0]!.reqFast).toBe(true);
    expect(seen[0]!.resFast).toBe(true);
    expect(seen[0]!.put).toBe(true);
  });
});

describe("toDictionaryMode", () => {
  it("switches an object to dictionary mode without changing what it holds", () => {
    const object: Record<string | symbol, unknown> = { a: 1, b: "two" };
    const tag = Symbol("tag");
    object[tag] = 3;
    expect(hasFastProperties(object)).toBe(true);
    toDictionaryMode(object);
    expect(hasFastProperties(object)).toBe(false);
    expect(Reflect.ownKeys(object)).toEqual(["a", "b", tag]);
    expect(object).toEqual({ a: 1, b: "two", [tag]: 3 });
  });

  it("leaves an object that takes no new properties as it is", () => {
    const frozen = Object.freeze({ a: 1 });
    expect(() => toDictionaryMode(frozen)).not.toThrow();
    expect(hasFastProperties(frozen)).toBe(true);
    const sealed = Object.preventExtensions({ a: 1 });
    expect(() => toDictionaryMode(sealed)).not.toThrow();
    expect(Reflect.ownKeys(sealed)).toEqual(["a"]);
  });

  it("never throws, even for an object whose traps do", () => {
    const target = { a: 1 };
    const refusing = new Proxy(target, {
      set() {
        throw new Error("no new properties");
      },
    });
    expect(() => toDictionaryMode(refusing)).not.toThrow();
    expect(Reflect.ownKeys(target)).toEqual(["a"]);
  });
});
