import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { spoolKeys } from "../../src/spool/redis/scripts.js";
import { deadLetterKeys } from "../../src/spool/redis/dead-letter-scripts.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

// The spool's Lua scripts, one at a time, on a real redis-server.
let server: RedisServer;
let redis: RedisConnection;
let n = 0;
/** Fresh keys per test. */
const fresh = () => spoolKeys(`scripts-${++n}`);

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new RedisConnection(server.url, 2_000);
});
afterAll(async () => {
  await redis.close();
  await server.dispose();
});

/** The history's arguments: the epoch known, a new one should there be none, the head seen. */
type History = [string, string, number];
/** The epoch this spool has now (made by the script if it has none), as a process that knows it sends it. */
const current = async (k: Keys): Promise<History> => [await server.cli("GET", k.epoch), "E1", 0];
/** The scripts' answers without the epoch (checked on its own in "the history's epoch"). */
const noEpoch = (reply: unknown[]) => [...reply.slice(0, 3), ...reply.slice(4)];
const appendRaw = async (k: Keys, max: number, group: string, events: string[], writer = "w1", history?: History) =>
  redis.run(
    "append",
    [k.events, k.writer(writer), k.base, k.epoch],
    [max, group, 60_000, ...(history ?? (await current(k))), ...events],
  ) as Promise<unknown[]>;
const append = async (k: Keys, max: number, group: string, events: string[], writer = "w1") =>
  noEpoch(await appendRaw(k, max, group, events, writer));
const frontRaw = async (k: Keys, ackThrough: number, from: number, count: number, history?: History) =>
  (await redis.run(
    "front",
    [k.events, k.base, k.epoch],
    [ackThrough, from, count, ...(history ?? (await current(k)))],
  )) as unknown[];
const front = async (k: Keys, ackThrough: number, from: number, count: number) =>
  noEpoch(await frontRaw(k, ackThrough, from, count));
type Keys = ReturnType<typeof spoolKeys>;

describe("append", () => {
  it("appends what fits under the fleet's bound, in order, and never trims what is there", async () => {
    const k = fresh();
    expect(await append(k, 5, "1", ["a", "b", "c"])).toEqual([3, 3, 0]);
    // Another writer's group: only two fit.
    expect(await append(k, 5, "1", ["d", "e", "f", "g"], "w2")).toEqual([2, 5, 0]);
    expect(await server.cli("LRANGE", k.events, "0", "-1")).toBe(["a", "b", "c", "d", "e"].join("\n"));
    expect(await append(k, 5, "2", ["f"], "w2")).toEqual([0, 5, 0]);
  });

  it("applies a group sent again (its answer lost) once, and answers as the first time", async () => {
    const k = fresh();
    expect(await append(k, 10, "7", ["a", "b"])).toEqual([2, 2, 0]);
    expect(await append(k, 10, "7", ["a", "b"])).toEqual([2, 2, 0]);
    expect(await append(k, 10, "8", ["c"])).toEqual([1, 3, 0]);
    expect(await server.cli("LLEN", k.events)).toBe("3");
  });
});

describe("front", () => {
  it("removes through a sequence number once, however late or often that is said, and reads from one", async () => {
    const k = fresh();
    await append(k, 100, "1", ["e0", "e1", "e2", "e3", "e4"]);
    // Read two from the start: [first seq, left, base, ...events].
    expect(await front(k, -1, 0, 2)).toEqual([0, 5, 0, "e0", "e1"]);
    // Acknowledge through seq 1 and read on.
    expect(await front(k, 1, 2, 2)).toEqual([2, 3, 2, "e2", "e3"]);
    // A stale acknowledgement (a publisher that stalled) removes nothing more.
    expect(await front(k, 0, 0, 1)).toEqual([2, 3, 2, "e2"]);
    expect(await front(k, 1, 2, 0)).toEqual([2, 3, 2]);
    // Reading past the end, and acknowledging everything.
    expect(await front(k, 3, 9, 5)).toEqual([9, 1, 4]);
    expect(await front(k, 4, 5, 5)).toEqual([5, 0, 5]);
    expect(await server.cli("GET", k.base)).toBe("5");
  });
});

describe("the history's epoch", () => {
  it("is made when there is none, with the server's run_id; an acknowledgement from another epoch removes nothing and reads from the base", async () => {
    const k = fresh();
    const runId = (await server.cli("INFO", "server")).match(/run_id:(\w+)/)![1]!;
    // The first caller's candidate becomes the epoch; later candidates do not replace it.
    expect((await appendRaw(k, 100, "1", ["a", "b", "c"], "w1", ["", "E1", 0]))[3]).toBe(`E1@${runId}`);
    expect(await frontRaw(k, 1, 2, 1, [`E1@${runId}`, "E2", 3])).toEqual([2, 1, 2, `E1@${runId}`, "c"]);
    // A process that knew a history Redis lost: nothing trimmed, read from the base.
    expect(await frontRaw(k, 5, 6, 5, ["E0@gone", "E9", 9])).toEqual([2, 1, 2, `E1@${runId}`, "c"]);
    expect(await server.cli("LLEN", k.events)).toBe("1");
  });

  it("is made anew when the list's head went back below what a caller saw in it (Redis lost appends)", async () => {
    const k = fresh();
    await appendRaw(k, 100, "1", ["a", "b"], "w1", ["", "E1", 0]);
    const [epoch] = await current(k);
    // The caller saw a head of 5 in this epoch; Redis holds 2: its history was cut, a new epoch starts.
    const reply = await frontRaw(k, 4, 5, 5, [epoch, "E2", 5]);
    expect(reply).toEqual([0, 2, 0, expect.stringMatching(/^E2@/), "a", "b"]);
    expect(await server.cli("LLEN", k.events)).toBe("2");
  });

  it("is made anew by another server process: one that made it, then restarted, may have lost its last writes", async () => {
    const k = fresh();
    await appendRaw(k, 100, "1", ["a"], "w1", ["", "E1", 0]);
    // As a replica or a restarted server holds it: the epoch of a server process that is gone.
    await server.cli("SET", k.epoch, "E1@0000000000000000000000000000000000000000");
    const reply = await frontRaw(k, 0, 1, 5, ["E1@0000000000000000000000000000000000000000", "E3", 1]);
    expect(reply).toEqual([0, 1, 0, expect.stringMatching(/^E3@/), "a"]);
    expect(await server.cli("LLEN", k.events)).toBe("1");
  });
});

describe("dead letters", () => {
  it("moves a dropped batch out of the outbox and into the dead letters in one step; sent again, keeps nothing twice", async () => {
    const k = fresh();
    const d = deadLetterKeys(`scripts-${n}`);
    await appendRaw(k, 100, "1", ["e0", "e1", "e2", "e3"]);
    const keep = (epoch: string) =>
      redis.run(
        "keepDead",
        [k.events, k.base, k.epoch, d.dead, d.ids, d.next, d.reasons],
        [epoch, 1, 2, "HTTP 400", 400, "Row 0 has invalid columns", 1, 2, d.reasonPrefix],
      );
    // e0 was delivered, e1 and e2 dropped: e0..e2 leave the outbox, e1 and e2 become dead letters.
    const [epoch] = await current(k);
    expect(await keep(epoch)).toEqual([2, 0]);
    expect(await server.cli("LRANGE", k.events, "0", "-1")).toBe("e3");
    expect(await server.cli("GET", k.base)).toBe("3");
    // The same move again (its answer lost): nothing kept twice, nothing more removed.
    expect(await keep(epoch)).toEqual([0, 0]);
    // A process of a history Redis lost: nothing done.
    expect(await keep("E0")).toEqual([-1, 0]);
    const records = (await server.cli("HVALS", d.dead)).split("\n").map((r) => JSON.parse(r) as { json: string });
    expect(records.map((r) => r.json).sort()).toEqual(["e1", "e2"]);
    expect(await server.cli("ZCARD", `${d.reasonPrefix}HTTP 400`)).toBe("2");
  });
});

describe("the publisher lease", () => {
  const claim = (k: Keys, id: string, ms: number) =>
    redis.run("leaseClaim", [k.lease], [id, hostname(), process.pid, ms]);
  const release = (k: ReturnType<typeof spoolKeys>, id: string) => redis.run("leaseRelease", [k.lease], [id]);

  it("is taken by one, renewed and released only by its holder, and records host, pid and since when", async () => {
    const k = fresh();
    const [seconds] = (await server.cli("TIME")).split("\n");
    expect(await claim(k, "a", 10_000)).toBe(2);
    expect(await claim(k, "b", 10_000)).toBe(0);
    expect(await claim(k, "a", 10_000)).toBe(1);
    expect(await release(k, "b")).toBe(0);
    const holder = JSON.parse(await server.cli("GET", k.lease)) as {
      id: string;
      host: string;
      pid: number;
      since: number;
    };
    expect(holder).toMatchObject({ id: "a", host: hostname(), pid: process.pid });
    expect(Math.abs(holder.since - Number(seconds) * 1000)).toBeLessThan(2_000);
    expect(await release(k, "a")).toBe(1);
    expect(await claim(k, "b", 10_000)).toBe(2);
  });

  it("expires on Redis when its holder stops renewing, and the next claimant takes it", async () => {
    const k = fresh();
    expect(await claim(k, "a", 150)).toBe(2);
    expect(await claim(k, "b", 150)).toBe(0);
    await waitFor(async () => (await server.cli("EXISTS", k.lease)) === "0", { what: "the lease to expire" });
    expect(await claim(k, "b", 150)).toBe(2);
  });
});

describe("the rate window", () => {
  const rate = (k: ReturnType<typeof spoolKeys>, member: string, force = "") =>
    redis.run("rate", [k.rate], [3, 1_000, member, force]) as Promise<number>;

  it("allows maxRate starts a period, counted on Redis's clock, whoever records them", async () => {
    const k = fresh();
    expect(await rate(k, "")).toBe(0);
    expect(await rate(k, "a:1")).toBe(0);
    expect(await rate(k, "a:2")).toBe(0);
    expect(await rate(k, "b:1")).toBe(0);
    // The third start filled the window: the next is not recorded, and must wait about a period.
    const wait = await rate(k, "b:2");
    expect(wait).toBeGreaterThan(800);
    expect(wait).toBeLessThanOrEqual(1_000);
    // Another process asking sees the same window.
    expect(await rate(k, "")).toBeGreaterThan(800);
    expect(Number(await server.cli("ZCARD", k.rate))).toBe(3);
    // flush() and close() lift the limit: a forced start is recorded anyway (the window keeps the newest maxRate).
    expect(await rate(k, "c:1", "1")).toBe(0);
    expect(await server.cli("ZRANGE", k.rate, "-1", "-1")).toContain("c:1");
  });
});
