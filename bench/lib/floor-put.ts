/**
 * Floors for the put() benchmark: what a put() costs here at the least, without events-forward's
 * shape (its row, its queue, its byte bounds, its ids), to tell the price of put()'s contract from
 * the price of its code.
 *   floor         the time and a copy of the properties (a queued event must not change when
 *                 the app changes its object), pushed on an array: no checks at all;
 *   floor+checks  the same, and the checks put() makes on this payload, written straight: the
 *                 event's name, each value's kind, strings JSON writes as they are, the exact
 *                 size of the properties column; a counter for an id.
 * Neither makes the row's text: like put(), they leave that to the batch.
 */
type Event = { event: unknown; properties?: Record<string, unknown> };
type Held = { at: number; id: number; name: string; copy: Record<string, unknown>; bytes: number };

export function floorPut(checks: boolean): { put(event: Event): void; clear(): void } {
  let held: Held[] = [];
  let id = 0;
  return {
    put: checks
      ? (event) => {
          const name = event.event;
          if (typeof name !== "string" || name.length === 0) throw new TypeError("event must be a non-empty string");
          const properties = event.properties;
          if (properties !== undefined && Object.getPrototypeOf(properties) !== Object.prototype)
            throw new TypeError("properties must be a plain object");
          const copy = { ...properties };
          let bytes = 4;
          for (const key in copy) {
            const value = copy[key];
            if (typeof value === "string") {
              for (let i = 0; i < value.length; i++) {
                const c = value.charCodeAt(i);
                if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) throw new TypeError("not plain");
              }
              bytes += value.length + 4;
            } else if (typeof value === "number")
              bytes +=
                Number.isSafeInteger(value) && value > 0 ? Math.floor(Math.log10(value)) + 1 : String(value).length;
            else if (typeof value === "boolean") bytes += value ? 4 : 5;
            else if (value === null) bytes += 4;
            else throw new TypeError("not flat");
            bytes += key.length + 6;
          }
          held.push({ at: Date.now(), id: id++, name, copy, bytes });
        }
      : (event) => {
          held.push({ at: Date.now(), id: 0, name: event.event as string, copy: { ...event.properties }, bytes: 0 });
        },
    clear() {
      held = [];
    },
  };
}
