import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { CHANNELS, dropChannel, overflowChannel, retryChannel, type DropMessage, type ForwarderIdentity, type OverflowMessage, type RetryMessage, type SendContext } from "./channels.js";

/** The end of a traced request: the tracing channel's asyncEnd, when the context holds the outcome. */
const SEND_END = `tracing:${CHANNELS.send}:asyncEnd`;

/** What a subscriber of the forwarder's channels may handle; each part is optional. */
export interface ForwarderListener {
  /** A request to the store ended (its context has outcome, status, reason, durationMs). */
  request?(context: SendContext): void;
  dropped?(message: DropMessage): void;
  overflowed?(message: OverflowMessage): void;
  retrying?(message: RetryMessage): void;
}

/**
 * Subscribes `listener` to the channels, for one forwarder (`only`) or all of them; returns the
 * function that unsubscribes it. Subscribes only to the channels the listener handles, so the
 * others stay without subscribers (and cost nothing).
 */
export function listen(listener: ForwarderListener, only?: ForwarderIdentity): () => void {
  const mine = (message: unknown) => only === undefined || (message as { forwarder?: unknown }).forwarder === only;
  const undo: (() => void)[] = [];
  const on = <T>(subscribe: (fn: (message: unknown) => void) => void, unsubscribe: (fn: (message: unknown) => void) => unknown, handle: ((m: T) => void) | undefined) => {
    if (handle === undefined) return;
    const fn = (message: unknown) => {
      if (mine(message)) handle(message as T);
    };
    subscribe(fn);
    undo.push(() => unsubscribe(fn));
  };
  on<DropMessage>((fn) => dropChannel.subscribe(fn), (fn) => dropChannel.unsubscribe(fn), listener.dropped?.bind(listener));
  on<OverflowMessage>((fn) => overflowChannel.subscribe(fn), (fn) => overflowChannel.unsubscribe(fn), listener.overflowed?.bind(listener));
  on<RetryMessage>((fn) => retryChannel.subscribe(fn), (fn) => retryChannel.unsubscribe(fn), listener.retrying?.bind(listener));
  on<SendContext>(
    (fn) => subscribe(SEND_END, fn),
    (fn) => unsubscribe(SEND_END, fn),
    listener.request?.bind(listener),
  );
  return () => undo.splice(0).forEach((u) => u());
}
