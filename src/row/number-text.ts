/**
 * JSON's text of a finite number (what String() and JSON.stringify write), without the cost of
 * V8's general conversion where a shorter path gives the same characters: a double such as a
 * request's `duration_ms` (0.137) takes some 400 ns to convert, every time, where an integer takes
 * 20. A number with at most MAX_DECIMALS digits after the point and a magnitude below
 * MAX_MAGNITUDE is written from integers; anything else goes to String().
 */
import { writeAscii } from "./bytes.js";

const MAX_DECIMALS = 6;
/** Below this, a double's spacing is far finer than 10^-MAX_DECIMALS: one decimal of d digits at most rounds to it. */
const MAX_MAGNITUDE = 1e9;
const SCALES = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * The number as its integer digits and decimals: `whole` and `fraction` (0 to 10^decimals) with
 * `decimals` digits after the point, the fewest that give the number back. Why that is String()'s
 * text: String() writes the shortest decimal that rounds to the double; k/10^d with the fewest d
 * for which the division (correctly rounded) gives the double back is that decimal, since a shorter
 * one would have been found at a smaller d, and at these magnitudes no two decimals of d digits
 * round to one double. Filled by split(); `decimals` is -1 when the fast path does not apply.
 */
const parts = { negative: false, whole: 0, fraction: 0, decimals: -1 };

function split(value: number): void {
  parts.decimals = -1;
  const magnitude = Math.abs(value);
  if (!(magnitude < MAX_MAGNITUDE)) return;
  for (let decimals = 1; decimals <= MAX_DECIMALS; decimals++) {
    const scale = SCALES[decimals]!;
    const scaled = Math.round(magnitude * scale);
    if (scaled / scale !== magnitude) continue;
    const whole = Math.floor(scaled / scale);
    parts.negative = value < 0;
    parts.whole = whole;
    parts.fraction = scaled - whole * scale;
    parts.decimals = decimals;
    return;
  }
}

/** The number of decimal digits of a whole number up to 2^31. */
function digits(whole: number): number {
  if (whole < 100_000) return whole < 10 ? 1 : whole < 100 ? 2 : whole < 1_000 ? 3 : whole < 10_000 ? 4 : 5;
  return whole < 1_000_000 ? 6 : whole < 10_000_000 ? 7 : whole < 100_000_000 ? 8 : whole < 1_000_000_000 ? 9 : 10;
}

/**
 * How many decimals the fast path writes `value` with, or -1 when it leaves the number to
 * String() (an integer, or past the bounds). For tests: the fallback gives the same text, so only
 * this tells whether the fast path applies where it should.
 */
export function fastDecimals(value: number): number {
  if (Number.isInteger(value) || !Number.isFinite(value)) return -1;
  split(value);
  return parts.decimals;
}

/** JSON's text of a number: null for NaN and the infinities. */
export function numberText(value: number): string {
  if (!Number.isFinite(value)) return "null";
  if (Number.isInteger(value)) return String(value); // V8 converts small integers quickly, and caches them
  split(value);
  if (parts.decimals < 0) return String(value);
  const fraction = String(parts.fraction).padStart(parts.decimals, "0");
  return `${parts.negative ? "-" : ""}${parts.whole}.${fraction}`;
}

/** numberText(value).length, without making the text where it can. */
export function numberTextLength(value: number): number {
  // The usual case first, in integer arithmetic: a 32-bit integer (-0 included, written "0").
  if ((value | 0) === value) return value < 0 ? digits(-value) + 1 : digits(value);
  if (!Number.isFinite(value)) return 4;
  if (Number.isInteger(value)) return String(value).length;
  split(value);
  if (parts.decimals < 0) return String(value).length;
  return (parts.negative ? 1 : 0) + digits(parts.whole) + 1 + parts.decimals;
}

/**
 * Writes numberText(value) as ASCII bytes at `at`; returns where it ends. `into` must have room
 * for 24 bytes (the longest text of a double) past `at`.
 */
export function writeNumberText(into: Uint8Array, at: number, value: number): number {
  if (Number.isFinite(value) && Math.abs(value) < MAX_MAGNITUDE) {
    if (Number.isInteger(value)) {
      if (value < 0) into[at++] = 0x2d; // -
      return writeWhole(into, at, Math.abs(value));
    }
    split(value);
    if (parts.decimals >= 0) {
      if (parts.negative) into[at++] = 0x2d;
      at = writeWhole(into, at, parts.whole);
      into[at++] = 0x2e; // .
      // The fraction's digits, leading zeros included, from the last one back.
      let fraction = parts.fraction;
      for (let i = at + parts.decimals - 1; i >= at; i--) {
        into[i] = 0x30 + (fraction % 10);
        fraction = (fraction / 10) | 0;
      }
      return at + parts.decimals;
    }
  }
  return writeAscii(into, at, numberText(value));
}

/** Writes a whole number below MAX_MAGNITUDE (an int32) as decimal digits. */
function writeWhole(into: Uint8Array, at: number, whole: number): number {
  const end = at + digits(whole);
  for (let i = end - 1; i >= at; i--) {
    into[i] = 0x30 + (whole % 10);
    whole = (whole / 10) | 0;
  }
  return end;
}
