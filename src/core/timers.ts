// Timers that work on every runtime the package runs on: Node, Bun, Deno, Workers and edge functions.

/**
 * Lets a timer not keep the process alive, wherever the runtime allows it: Node's and Bun's
 * timers have unref(); Deno's are numbers that Deno.unrefTimer() takes; Workers have no process
 * to keep alive (their timers live as long as the request, or its waitUntil).
 */
export function unrefTimer(timer: unknown): void {
  if (typeof (timer as { unref?: unknown })?.unref === "function") (timer as { unref(): void }).unref();
  else if (typeof timer === "number")
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
}

const HAS_IMMEDIATE = typeof globalThis.setImmediate === "function";

/**
 * Runs `callback` after `delayMs`, unref'd; 0 runs it on the next turn of the event loop
 * (setImmediate: setTimeout(0) waits at least a millisecond), or after a zero timeout where the
 * runtime has no setImmediate. The handle is for cancelLater().
 */
export function later(callback: () => void, delayMs: number): unknown {
  const timer = delayMs > 0 || !HAS_IMMEDIATE ? setTimeout(callback, delayMs) : setImmediate(callback);
  unrefTimer(timer);
  return timer;
}

export function cancelLater(timer: unknown): void {
  try {
    // Node's and Bun's Timeout objects have refresh(), their Immediate objects do not.
    if (!HAS_IMMEDIATE || typeof timer === "number" || "refresh" in (timer as object))
      clearTimeout(timer as ReturnType<typeof setTimeout>);
    else clearImmediate(timer as ReturnType<typeof setImmediate>);
  } catch {
    // Workers: a timer another request set cannot be cleared from this one. It runs in its own
    // request, if that is still there, and finds nothing or little to do (the forwarder's tick
    // takes the lock like any other).
  }
}
