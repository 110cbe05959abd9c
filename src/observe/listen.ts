import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  CHANNELS,
  type DropMessage,
  type ForwarderIdentity,
  type OverflowMessage,
  type RetryMessage,
  type SendContext,
} from "./channels.js";

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
  const on = <T>(name: string, handle: ((m: T) => void) | undefined) => {
    if (handle === undefined) return;
    const fn = (message: unknown) => {
      if (mine(message)) handle(message as T);
    };
    subscribe(name, fn);
    undo.push(() => unsubscribe(name, fn));
  };
  on<DropMessage>(CHANNELS.drop, listener.dropped?.bind(listener));
  on<OverflowMessage>(CHANNELS.overflow, listener.overflowed?.bind(listener));
  on<RetryMessage>(CHANNELS.retry, listener.retrying?.bind(listener));
  on<SendContext>(SEND_END, listener.request?.bind(listener));
  return () => undo.splice(0).forEach((u) => u());
}
