import { expect } from "vitest";
import type { Harness } from "./forward-to.js";

export interface Table {
  /** Event names in the store, each row once (by id). */
  events(): string[];
}

/**
 * Every event put is accounted for exactly once: delivered (in the store) or dropped (through
 * onDrop, with a reason), and nothing else is in the store. Event names must be unique.
 * `writtenAndDropped` lists events the store wrote although the client never learnt it did (the
 * answer was lost): those are in both, as the delivery guarantees say.
 */
export function expectAccounted(
  h: Harness,
  store: Table,
  put: string[],
  expected: { delivered: string[]; dropped: string[]; writtenAndDropped?: string[] },
): void {
  const delivered = store.events();
  const dropped = h.droppedNames();
  expect(delivered).toEqual(expected.delivered);
  expect(dropped).toEqual(expected.dropped);
  const both = delivered.filter((name) => dropped.includes(name));
  expect(both).toEqual(expected.writtenAndDropped ?? []);
  expect([...new Set([...delivered, ...dropped])].sort()).toEqual([...put].sort());
  expect(h.drops.every((drop) => drop.reason.length > 0)).toBe(true);
  const stats = h.events.stats();
  expect(stats.queued).toBe(0);
  expect(stats.dropped).toBe(dropped.length);
  expect(stats.sent).toBe(delivered.length - both.length);
}
