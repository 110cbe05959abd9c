// Where one process stands in the Redis outbox's history (OutboxHistory) on its own, over an
// outbox laid out in a real redis-server: what it counts as settled and acknowledged, when it
// starts over, and how it moves a dropped batch into the dead letters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DropInfo } from "../../src/spool/dead-letters.js";
import { RedisConnection } from "../../src/spool/redis/connection.js";
import { deadLetterKeys } from "../../src/spool/redis/dead-letter-scripts.js";
import { OutboxHistory, type RedisSpoolEvent } from "../../src/spool/redis/history.js";
import { spoolKeys } from "../../src/spool/redis/scripts.js";
import { onCleanup } from "../helpers/lifecycle.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { RedisServer } from "../helpers/redis-server.js";
import { startStallProxy } from "../helpers/stall-proxy.js";
import { waitFor } from "../helpers/wait.js";

let redis: RedisServer;
beforeAll(async () => (redis = await RedisServer.start()));
afterAll(() => redis?.dispose());
let made = 0;

const REFUSED: DropInfo = { answer: "Datasette answered HTTP 400: invalid columns", status: 400, attempts: 2 };

/** A history over key `key`, whose outbox holds `count` events from sequence number 0 in epoch "E1". */
async function setUp(count = 0, options: { maxDeadLetters?: number; url?: string } = {}) {
  const key = `history-${++made}`;
  const keys = spoolKeys(key);
  const deadKeys = deadLetterKeys(key);
  await redis.cli("SET", keys.epoch, "E1");
  await redis.cli("SET", keys.base, "0");
  for (let n = 0; n < count; n++) await redis.cli("RPUSH", keys.events, JSON.stringify({ n }));
  const connection = new RedisConnection(options.url ?? redis.url, 2_000);
  onCleanup(() => connection.close());
  const logger = recordingLogger();
  const history = new OutboxHistory(connection, keys, deadKeys, options.maxDeadLetters ?? 100, logger, "the spool");
  return { history, logger, keys, deadKeys };
}

/** Events of the outbox as a take() returns them. */
const events = (from: number, through: number, epoch = "E1"): RedisSpoolEvent[] =>
  Array.from({ length: through - from + 1 }, (_, i) => {
    const json = JSON.stringify({ n: from + i });
    return { json, bytes: json.length, seq: from + i, epoch };
  });

describe("OutboxHistory", () => {
  it("takes the first epoch it hears without a warning, and counts what it has not settled", async () => {
    const { history, logger } = await setUp();
    expect(history).toMatchObject({ epoch: "", settledThrough: -1, ackedThrough: -1, unacknowledged: false });
    expect(history.ackThrough()).toBe(-1);
    const [epoch, fresh, head] = history.args();
    expect(epoch).toBe("");
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(head).toBe(0);

    expect(history.observe("E1", 10, 5)).toBe(5);
    expect(history).toMatchObject({ epoch: "E1", settledThrough: 9, ackedThrough: 9 });
    expect(history.args()[2]).toBe(15);
    expect(history.settle(events(10, 11)[1]!)).toBe(true);
    expect(history.settledThrough).toBe(11);
    expect(history.observe("E1", 10, 5)).toBe(3);
    expect(history.observe("E1", 12, 3)).toBe(3); // Redis removed what was settled
    expect(history.observe("E1", 20, 0)).toBe(0);
    expect(history.args()[2]).toBe(20);
    expect(history.observe("E1", 12, 1)).toBe(1); // a lower head is kept as the highest seen
    expect(history.args()[2]).toBe(20);
    expect(logger.messages).toEqual([]);
  });

  it("settles and acknowledges in its epoch only, and never backwards", async () => {
    const { history } = await setUp();
    history.observe("E1", 0, 10);
    expect(history.unacknowledged).toBe(false);
    expect(history.settle(events(0, 4)[4]!)).toBe(true);
    expect(history.settle(events(2, 2)[0]!)).toBe(true);
    expect(history.settledThrough).toBe(4);
    expect(history.settle(events(5, 5, "E0")[0]!)).toBe(false);
    expect(history.settledThrough).toBe(4);
    expect(history.unacknowledged).toBe(true);
    expect(history.ackThrough()).toBe(4);

    history.acked("E0", 9);
    expect(history.ackedThrough).toBe(-1);
    history.acked("E1", 4);
    history.acked("E1", 2);
    expect(history.ackedThrough).toBe(4);
    expect(history.unacknowledged).toBe(false);
  });

  it("a new epoch: warns, and starts over from its base; the old history's batches are settled by nothing", async () => {
    const { history, logger } = await setUp();
    history.observe("E1", 0, 10);
    history.settle(events(0, 6)[6]!);
    history.acked("E1", 6);
    expect(history.observe("E2", 3, 4)).toBe(4);
    expect(history).toMatchObject({ epoch: "E2", settledThrough: 2, ackedThrough: 2 });
    expect(history.args()).toEqual(["E2", expect.any(String), 7]);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(/^warn: spool the spool: a new history in Redis \(it restarted/);
    expect(history.settle(events(0, 6)[6]!)).toBe(false);
  });

  it("keepDead moves a dropped batch into the dead letters and removes the outbox's front through it, in one step", async () => {
    const { history, keys, deadKeys, logger } = await setUp(5);
    history.observe("E1", 0, 5);
    expect(await history.keepDead(events(0, 2), REFUSED)).toBe(true);
    expect(logger.messages).toEqual([]); // nothing evicted: nothing to say
    expect(await redis.cli("LLEN", keys.events)).toBe("2");
    expect(await redis.cli("GET", keys.base)).toBe("3");
    expect(history.ackedThrough).toBe(2); // the move acknowledged it
    const records = (await redis.cli("HVALS", deadKeys.dead))
      .split("\n")
      .map((r) => JSON.parse(r) as { json: string })
      .sort((a, b) => a.json.localeCompare(b.json));
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      json: '{"n":0}',
      reason: "HTTP 400",
      status: 400,
      answer: REFUSED.answer,
      attempts: 2,
    });
    expect(history.ackThrough()).toBe(-1); // nothing pending: what was settled (nothing yet)
  });

  it("keepDead has nothing to move for events that never reached Redis, or of a history left: true, no round trip", async () => {
    const { history, keys } = await setUp(3);
    history.observe("E1", 0, 3);
    expect(await history.keepDead([{ json: "{}", bytes: 2 }], REFUSED)).toBe(true);
    expect(await history.keepDead([], REFUSED)).toBe(true);
    expect(await history.keepDead(events(0, 1, "E0"), REFUSED)).toBe(true);
    const mixed = [events(0, 0)[0]!, { json: "{}", bytes: 2 }];
    expect(await history.keepDead(mixed, REFUSED)).toBe(true);
    expect(await redis.cli("LLEN", keys.events)).toBe("3");
  });

  it("keepDead in an epoch Redis no longer has: false, nothing moved nor acknowledged", async () => {
    const { history, keys } = await setUp(3);
    history.observe("E1", 0, 3);
    await redis.cli("SET", keys.epoch, "E2");
    expect(await history.keepDead(events(0, 1), REFUSED)).toBe(false);
    expect(await redis.cli("LLEN", keys.events)).toBe("3");
    expect(history.ackedThrough).toBe(-1);
  });

  it("keepDead when Redis refuses: throws, and the batch is pending no more", async () => {
    const { history, keys } = await setUp(3);
    history.observe("E1", 0, 3);
    history.settle(events(0, 2)[2]!);
    await redis.cli("DEL", keys.base);
    await redis.cli("RPUSH", keys.base, "not a number"); // WRONGTYPE for the script's GET
    await expect(history.keepDead(events(0, 1), REFUSED)).rejects.toThrow(/WRONGTYPE/);
    expect(history.ackThrough()).toBe(2);
  });

  it("while a move is on its way, no acknowledgement passes the dropped batch", async () => {
    const proxy = await startStallProxy(redis.port);
    onCleanup(() => proxy.close());
    const { history, keys } = await setUp(6, { url: `redis://${proxy.address}` });
    history.observe("E1", 0, 6);
    await history.keepDead([], REFUSED); // connected
    history.settle(events(0, 5)[5]!);
    proxy.stall();
    const moving = history.keepDead(events(2, 3), REFUSED);
    expect(history.ackThrough()).toBe(1);
    proxy.resume();
    expect(await moving).toBe(true);
    expect(history.ackThrough()).toBe(5);
    expect(await redis.cli("LLEN", keys.events)).toBe("2");
  });

  it("past maxDeadLetters the oldest go, warned once", async () => {
    const { history, logger, deadKeys } = await setUp(6, { maxDeadLetters: 2 });
    history.observe("E1", 0, 6);
    expect(await history.keepDead(events(0, 2), REFUSED)).toBe(true);
    expect(await history.keepDead(events(3, 5), REFUSED)).toBe(true);
    expect(await redis.cli("ZCARD", deadKeys.ids)).toBe("2");
    expect(logger.messages).toEqual([
      "warn: spool the spool holds more than 2 dead letters (spool.maxDeadLetters): the oldest are deleted to make room (reported once)",
    ]);
  });

  it("keeps moves in order: a batch dropped behind another waits for it", async () => {
    const { history, keys } = await setUp(6);
    history.observe("E1", 0, 6);
    const first = history.keepDead(events(0, 1), REFUSED);
    const second = history.keepDead(events(2, 3), { answer: "gave up (option maxAttempts)", status: 500 });
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(await redis.cli("LLEN", keys.events)).toBe("2");
    await waitFor(async () => (await redis.cli("GET", keys.base)) === "4", { what: "both moves" });
  });
  it("keepDead of a batch another process already removed: nothing kept twice, yet the move counts as made", async () => {
    const { history, keys, deadKeys } = await setUp(5);
    history.observe("E1", 0, 5);
    await redis.cli("LTRIM", keys.events, "3", "-1");
    await redis.cli("SET", keys.base, "3");
    expect(await history.keepDead(events(0, 2), REFUSED)).toBe(true);
    expect(history.ackedThrough).toBe(2);
    expect(await redis.cli("EXISTS", deadKeys.dead)).toBe("0");
  });

  it("a new epoch while a move is on its way: the old history's dropped batch holds no acknowledgement back", async () => {
    const proxy = await startStallProxy(redis.port);
    onCleanup(() => proxy.close());
    const { history } = await setUp(6, { url: `redis://${proxy.address}` });
    history.observe("E1", 0, 6);
    await history.keepDead([], REFUSED); // connected
    proxy.stall();
    const moving = history.keepDead(events(4, 5), REFUSED);
    expect(history.ackThrough()).toBe(-1);
    history.observe("E2", 10, 3);
    expect(history.ackThrough()).toBe(9);
    proxy.resume();
    expect(await moving).toBe(false); // that history is gone: its move is not made
    expect(history.ackThrough()).toBe(9);
  });
});
