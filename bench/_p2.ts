import { monotonicFactory, ulid } from "ulid";
import { randomFillSync } from "node:crypto";
const pool = new Uint8Array(4096);
let pos = pool.length;
const prng = () => {
  if (pos === pool.length) { randomFillSync(pool); pos = 0; }
  return pool[pos++]! / 256;
};
const f = monotonicFactory();
const g = monotonicFactory(prng);
function t(name: string, fn: () => unknown, n = 200000) {
  for (let i = 0; i < 2000; i++) fn();
  const s = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(name, (((performance.now() - s) * 1e6) / n).toFixed(0), "ns");
}
for (let r = 0; r < 2; r++) {
t("monotonic ulid", () => f());
t("monotonic ulid pooled", () => g());
t("ulid pooled", () => ulid(undefined, prng));
t("ulid", () => ulid(), 2000);
t("toISOString", () => new Date().toISOString());
t("Date.now", () => Date.now());
}
