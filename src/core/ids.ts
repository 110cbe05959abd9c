import { builtin } from "./builtin.js";

/**
 * ULIDs (26 characters of Crockford base32: 48 bits of milliseconds, 80 random bits), made fast
 * enough to give every request and every event one. The `ulid` package's factories cost ~0.9 µs
 * an id here (a crypto call per random character, a string increment within a millisecond), and
 * its encodeTime() alone 0.4 µs, paid once a millisecond by each factory (at a few thousand
 * requests a second, on most requests, twice: request ids and row ids); this one takes 0.1 µs for
 * the time and shares it: random bytes come from a pool and 10 bits are encoded per table lookup.
 * The tests check its ids against `ulid`'s decoder.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** The two characters for every 10-bit value. */
const PAIRS: string[] = Array.from({ length: 1024 }, (_, i) => ALPHABET[i >> 5]! + ALPHABET[i & 31]!);
const TWO_40 = 2 ** 40;
const TWO_30 = 2 ** 30;

const pool = new Uint8Array(4096);
let poolPos = pool.length;

/** 40 random bits, as a number below 2^40. */
function random40(): number {
  if (poolPos + 5 > pool.length) {
    builtin("node:crypto").randomFillSync(pool);
    poolPos = 0;
  }
  const p = poolPos;
  poolPos += 5;
  return (
    pool[p]! * 2 ** 32 + (((pool[p + 1]! << 24) | (pool[p + 2]! << 16) | (pool[p + 3]! << 8) | pool[p + 4]!) >>> 0)
  );
}

/** The ten characters of a time in milliseconds (below 2^48), made once a millisecond for every factory. */
const lastTime = { ms: -1, text: "" };
export function encodeTime(ms: number): string {
  if (ms !== lastTime.ms) {
    const high = Math.floor(ms / TWO_30); // below 2^18
    const low = ms - high * TWO_30;
    lastTime.ms = ms;
    lastTime.text =
      PAIRS[high >>> 10]! +
      PAIRS[high & 1023]! +
      PAIRS[(low >>> 20) & 1023]! +
      PAIRS[(low >>> 10) & 1023]! +
      PAIRS[low & 1023]!;
  }
  return lastTime.text;
}

/** Eight base32 characters for a number below 2^40. */
function encode40(value: number): string {
  const high = Math.floor(value / TWO_30);
  const low = value - high * TWO_30;
  return PAIRS[high]! + PAIRS[(low >>> 20) & 1023]! + PAIRS[(low >>> 10) & 1023]! + PAIRS[low & 1023]!;
}

const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Writes encode40(value)'s eight characters as bytes at `at`; returns where they end. */
export function writeEncoded40(into: Uint8Array, at: number, value: number): number {
  const high = Math.floor(value / TWO_30);
  const low = value - high * TWO_30;
  into[at] = CODES[high >> 5]!;
  into[at + 1] = CODES[high & 31]!;
  into[at + 2] = CODES[(low >>> 25) & 31]!;
  into[at + 3] = CODES[(low >>> 20) & 31]!;
  into[at + 4] = CODES[(low >>> 15) & 31]!;
  into[at + 5] = CODES[(low >>> 10) & 31]!;
  into[at + 6] = CODES[(low >>> 5) & 31]!;
  into[at + 7] = CODES[low & 31]!;
  return at + 8;
}

/**
 * ULIDs, monotonic like `ulid`'s monotonicFactory: within one millisecond (or when the clock steps
 * back) each id is the previous one plus one in its random part, so ids sort in the order they
 * were made. next() leaves the id in two parts, `head` (time and the high random half, shared by
 * the ids of a millisecond) and `low` (the low half, a number): a queued event keeps those and
 * writes its id's text with the rest of its row, when the batch is built.
 */
export class MonotonicUlid {
  head = "";
  low = 0;
  private lastMs = -1;
  private prefix = "";
  private high = 0;

  /** `now` lets a caller that already read the clock share the reading. */
  next(now = Date.now()): void {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.prefix = encodeTime(now);
      this.high = random40();
      this.low = random40();
      this.head = this.prefix + encode40(this.high);
    } else if (++this.low === TWO_40) {
      // Carry into the high half; 2^80 ids in one millisecond cannot happen, so no overflow check.
      this.low = 0;
      this.high++;
      this.head = this.prefix + encode40(this.high);
    }
  }
}

/** The text of an id that MonotonicUlid left in parts. */
export function ulidText(head: string, low: number): string {
  return head + encode40(low);
}

/** A ULID factory over MonotonicUlid that returns each id's text. */
export function monotonicUlid(): (now?: number) => string {
  const ids = new MonotonicUlid();
  return (now) => {
    ids.next(now);
    return ulidText(ids.head, ids.low);
  };
}
