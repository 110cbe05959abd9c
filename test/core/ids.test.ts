import { decodeTime, isValid } from "ulid";
import { describe, expect, it } from "vitest";
import { monotonicUlid } from "../../src/core/ids.js";

describe("monotonicUlid", () => {
  it("makes valid ULIDs that carry the time they were made", () => {
    const next = monotonicUlid();
    const before = Date.now();
    const id = next();
    const after = Date.now();
    expect(isValid(id)).toBe(true);
    expect(id).toHaveLength(26);
    expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id)).toBeLessThanOrEqual(after);
    expect(decodeTime(monotonicUlid()(1_700_000_000_123))).toBe(1_700_000_000_123);
  });

  it("encodes every time as ulid's decoder reads it back", () => {
    let seed = 3;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const ms = Math.floor((seed / 2 ** 31) * 2 ** 48);
      expect(decodeTime(monotonicUlid()(ms))).toBe(ms);
    }
  });

  it("encodes the largest and smallest times ULIDs allow", () => {
    expect(monotonicUlid()(2 ** 48 - 1).slice(0, 10)).toBe("7ZZZZZZZZZ");
    expect(monotonicUlid()(1).slice(0, 10)).toBe("0000000001");
  });

  it("increases strictly within one millisecond, by one in the random part", () => {
    const next = monotonicUlid();
    const ids = Array.from({ length: 5000 }, () => next(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => id.startsWith(ids[0]!.slice(0, 10)))).toBe(true);
    const last = (id: string) => "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(id.at(-1)!);
    expect((last(ids[0]!) + 1) % 32).toBe(last(ids[1]!));
  });

  it("stays increasing when the clock steps back", () => {
    const next = monotonicUlid();
    const first = next(1_700_000_000_500);
    const second = next(1_700_000_000_100);
    expect(second > first).toBe(true);
    expect(decodeTime(second)).toBe(1_700_000_000_500);
  });

  it("draws fresh random bits each millisecond and in each factory", () => {
    const a = monotonicUlid();
    const b = monotonicUlid();
    const randoms = new Set<string>();
    for (let ms = 0; ms < 2000; ms++) randoms.add(a(1_700_000_000_000 + ms).slice(10));
    for (let ms = 0; ms < 2000; ms++) randoms.add(b(1_700_000_000_000 + ms).slice(10));
    expect(randoms.size).toBe(4000);
  });
});
