import { channel } from "node:diagnostics_channel";
import type { ForwarderObserver } from "../pipeline/observer.js";
import type { SendResult } from "../pipeline/sink.js";

/**
 * The diagnostics channels events-forward publishes on (node:diagnostics_channel), as undici and
 * Fastify publish theirs. `send` is a tracing channel: subscribe to
 * `tracing:events-forward:send:start` / `:asyncEnd` (or with diagnostics_channel.tracingChannel).
 */
export const CHANNELS = {
  /** Tracing channel around each request to the store: SendContext. */
  send: "events-forward:send",
  /** Events given up on: DropMessage. */
  drop: "events-forward:drop",
  /** A put() refused because the queue was full: OverflowMessage. */
  overflow: "events-forward:overflow",
  /** A failed request that will be repeated after a pause: RetryMessage. */
  retry: "events-forward:retry",
  /** The queue passed half its bound, or fell back under a quarter: BacklogMessage. */
  backlog: "events-forward:backlog",
  /** This process took or gave up a spool's publisher lease: LeaseMessage. */
  lease: "events-forward:lease",
} as const;

/**
 * Which forwarder a message is about: one object per forwarder (compare by identity), since
 * channels are shared by every forwarder in the process.
 */
export interface ForwarderIdentity {
  /** Option `name` (the request context's property). */
  readonly name: string;
  /** Where it sends, for logs (no credentials). */
  readonly store: string;
}

/** The context of one traced request to the store; `outcome` and what follows are set when it ends. */
export interface SendContext {
  forwarder: ForwarderIdentity;
  store: string;
  /** Events in the request. */
  events: number;
  /** Their bytes (the payloads, without the framing). */
  bytes: number;
  /** 1 for a batch's first request, 2 for its first retry... */
  attempt: number;
  outcome?: "sent" | "failed";
  /** The HTTP status of a failed request (none: no answer). */
  status?: number;
  /** Why it failed (no secrets). */
  reason?: string;
  /** How long the request took, in milliseconds. */
  durationMs?: number;
  /** Set by tracePromise: what the sink answered. */
  result?: SendResult;
}

export interface DropMessage {
  forwarder: ForwarderIdentity;
  store: string;
  events: number;
  reason: string;
  /** The store's HTTP status, when it answered one. */
  status?: number;
}

export interface OverflowMessage {
  forwarder: ForwarderIdentity;
  store: string;
  reason: string;
}

export interface RetryMessage {
  forwarder: ForwarderIdentity;
  store: string;
  /** The attempt that failed. */
  attempt: number;
  /** The pause before the next one. */
  delayMs: number;
  status?: number;
  reason: string;
}

export interface BacklogMessage {
  forwarder: ForwarderIdentity;
  store: string;
  /** "high": past half the queue's bound; "normal": back under a quarter. */
  level: "high" | "normal";
  waiting: number;
  bound: number;
}

export interface LeaseMessage {
  /** The spool (its path). */
  spool: string;
  /** host:pid:tag of this process. */
  holder: string;
  /** true: this process took the lease (it now sends); false: it gave it up or lost it. */
  held: boolean;
}

/** The send tracing channel's parts, published by hand: the forwarder reports a request's start and end as two calls. */
const sendStart = channel(`tracing:${CHANNELS.send}:start`);
const sendEnd = channel(`tracing:${CHANNELS.send}:end`);
const sendAsyncStart = channel(`tracing:${CHANNELS.send}:asyncStart`);
const sendAsyncEnd = channel(`tracing:${CHANNELS.send}:asyncEnd`);
const dropChannel = channel(CHANNELS.drop);
const overflowChannel = channel(CHANNELS.overflow);
const retryChannel = channel(CHANNELS.retry);
const backlogChannel = channel(CHANNELS.backlog);
const leaseChannel = channel(CHANNELS.lease);

/**
 * The forwarder's observer that publishes what it hears on the channels, bound to its identity.
 * Every method looks at hasSubscribers first: with nobody listening, no message is built.
 * One request is in flight per forwarder, so one context at a time.
 */
export class ChannelPublisher implements ForwarderObserver {
  readonly identity: ForwarderIdentity;
  private context: SendContext | undefined;
  private attempt = 0;

  constructor(name: string, store: string) {
    this.identity = { name, store };
  }

  onRequestStart(events: number, retry: boolean, bytes = 0): void {
    this.attempt = retry ? this.attempt + 1 : 1;
    // The context is built only when someone listens to the start or the end of a request.
    if (
      !sendStart.hasSubscribers &&
      !sendAsyncEnd.hasSubscribers &&
      !sendEnd.hasSubscribers &&
      !sendAsyncStart.hasSubscribers
    )
      return;
    const context: SendContext = {
      forwarder: this.identity,
      store: this.identity.store,
      events,
      bytes,
      attempt: this.attempt,
    };
    this.context = context;
    sendStart.publish(context);
    sendEnd.publish(context); // the synchronous part ends here; the answer comes later (asyncStart/asyncEnd)
  }

  onRequest(result: SendResult, ms: number): void {
    const context = this.context;
    if (context === undefined) return;
    this.context = undefined;
    context.durationMs = ms;
    context.outcome = result.ok ? "sent" : "failed";
    if (!result.ok) {
      context.status = result.status;
      context.reason = result.reason;
    }
    context.result = result;
    sendAsyncStart.publish(context);
    sendAsyncEnd.publish(context);
  }

  onSent(): void {}

  onDrop(events: number, reason: string, status?: number): void {
    if (dropChannel.hasSubscribers)
      dropChannel.publish({
        forwarder: this.identity,
        store: this.identity.store,
        events,
        reason,
        status,
      } satisfies DropMessage);
  }

  onOverflow(reason?: string): void {
    if (overflowChannel.hasSubscribers)
      overflowChannel.publish({
        forwarder: this.identity,
        store: this.identity.store,
        reason: reason ?? "the queue is full",
      } satisfies OverflowMessage);
  }

  onRetry(attempt: number, delayMs: number, failure: { status?: number; reason: string }): void {
    if (!retryChannel.hasSubscribers) return;
    retryChannel.publish({
      forwarder: this.identity,
      store: this.identity.store,
      attempt,
      delayMs,
      status: failure.status,
      reason: failure.reason,
    } satisfies RetryMessage);
  }

  /** The backlog warning, as the forwarder logs it. */
  onBacklog(level: BacklogMessage["level"], waiting: number, bound: number): void {
    if (backlogChannel.hasSubscribers)
      backlogChannel.publish({
        forwarder: this.identity,
        store: this.identity.store,
        level,
        waiting,
        bound,
      } satisfies BacklogMessage);
  }
}

/** A spool publishes lease changes (the spool, not a forwarder, holds the lease). */
export function publishLease(spool: string, holder: string, held: boolean): void {
  if (leaseChannel.hasSubscribers) leaseChannel.publish({ spool, holder, held } satisfies LeaseMessage);
}
