/**
 * What a sink and a pause need of the forwarder's stop: whether it happened, and a call when it
 * does. An AbortSignal is one; the forwarder's own is a StopSignal.
 */
export interface Stopping {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * The forwarder's stop as a plain object, not an AbortController: Cloudflare Workers bind an
 * AbortSignal to the request that made it, and any other request that so much as reads
 * `aborted` throws ("Cannot perform I/O on behalf of a different request"), while one forwarder
 * serves every request of the isolate. Listeners run once, on the first abort().
 */
export class StopSignal implements Stopping {
  aborted = false;
  private readonly listeners = new Set<() => void>();

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (!this.aborted) this.listeners.add(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    this.listeners.delete(listener);
  }
}
