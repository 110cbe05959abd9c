import { describe, expect, it } from "vitest";
import { fastDecimals, numberText, numberTextLength, writeNumberText } from "../../src/row/number-text.js";

// put() counts a number's bytes and the batch writes its text without V8's general conversion
// where it can: the text must be JSON's (String()'s) to the byte, for every number.
describe("a number's text", () => {
  const into = new Uint8Array(64);
  const expectJsonText = (value: number) => {
    const json = JSON.stringify(value);
    expect(numberText(value), String(value)).toBe(json);
    expect(numberTextLength(value), String(value)).toBe(json.length);
    const end = writeNumberText(into, 3, value);
    expect(Buffer.from(into.subarray(3, end)).toString("latin1"), String(value)).toBe(json);
  };

  it("is JSON's text for integers, decimals, and the numbers past the fast path's bounds", () => {
    const values = [
      0,
      -0,
      1,
      -1,
      7,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      -(2 ** 31) - 1,
      1_000_000_000,
      -1_000_000_000,
      10,
      99,
      100,
      123_456_789,
      999_999_999,
      1e9,
      -1e9,
      2 ** 31,
      2 ** 53,
      -(2 ** 53),
      1e21,
      1e20,
      1e-7,
      1e-6,
      -1e-6,
      0.1,
      0.2,
      0.1 + 0.2,
      0.137,
      1.005,
      2.675,
      4599.5,
      999_999_999.999999,
      1e9 - 0.5,
      0.000001,
      0.0000015,
      5e-324,
      Number.MAX_VALUE,
      1e15 + 0.3,
      Number.NaN,
      Infinity,
      -Infinity,
    ];
    for (const value of values) expectJsonText(value);
  });

  it("is JSON's text at every power of ten and beside it, as integers and as the whole part of a decimal", () => {
    for (let power = 0; power <= 10; power++) {
      for (const whole of [10 ** power - 1, 10 ** power, 10 ** power + 1]) {
        for (const value of [whole, -whole, whole + 0.5, -(whole + 0.25)]) expectJsonText(value);
      }
    }
  });

  it("writes the usual decimals itself, with the fewest decimals that give the number back, and leaves the rest to String()", () => {
    expect([0.137, 4599.5, -0.5, 0.000001, 123.456789, 999_999_999.5].map(fastDecimals)).toEqual([3, 1, 1, 6, 6, 1]);
    // Integers, more than six decimals (0.1 + 0.2 is 0.30000000000000004), 1e9 and past, 1e-7, NaN.
    expect([42, 0.1 + 0.2, 1e9 + 0.5, -1e9 - 0.5, 1e-7, 1.0000001, Number.NaN, Infinity].map(fastDecimals)).toEqual([
      -1, -1, -1, -1, -1, -1, -1, -1,
    ]);
  });

  it("is JSON's text for random numbers of every shape (request durations, amounts, fractions, large integers)", () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5_000; i++) {
      const decimals = Math.floor(random() * 9);
      const magnitude = 10 ** Math.floor(random() * 14 - 4);
      const sign = random() < 0.3 ? -1 : 1;
      expectJsonText((sign * Math.round(random() * magnitude * 10 ** decimals)) / 10 ** decimals);
      expectJsonText(sign * random() * magnitude);
      expectJsonText(Math.round(random() * 5000 * 1000) / 1000);
      expectJsonText(sign * Math.floor(random() * 2 ** 45));
    }
  });
});
