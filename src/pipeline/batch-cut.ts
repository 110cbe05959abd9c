/**
 * Where a batch taken from `events[from]` ends: before `to`, and before the event that would take
 * it past `maxBytes` in all, but after at least one event (a lone event larger than maxBytes still
 * goes, alone). Every queue's take() cuts its batch with this.
 */
export function batchEnd(
  events: readonly { readonly bytes: number }[],
  from: number,
  to: number,
  maxBytes: number,
): number {
  let bytes = 0;
  let i = from;
  for (; i < to; i++) {
    bytes += events[i]!.bytes;
    if (bytes > maxBytes && i > from) break;
  }
  return i;
}
