import type { SendResult } from "../pipeline/retry.js";

/**
 * A store the forwarder delivers to. A sink only knows how to turn a batch of serialized events
 * into one request (or one transaction) and how to read the answer.
 */
export interface Sink {
  /** Where it sends, for logs: no credentials, no query string. */
  readonly description: string;
  /** The exact bytes of the request body for `count` events of `payloadBytes` in all, framing included. */
  bodyBytes?(count: number, payloadBytes: number): number;
  /** `payloadBytes`: the payloads' UTF-8 bytes in all, when the caller knows them exactly. */
  send(payloads: string[], signal: AbortSignal, payloadBytes?: number): Promise<SendResult>;
  close?(): Promise<void>;
}
