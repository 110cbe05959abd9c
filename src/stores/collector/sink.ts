import type { ResolvedCollector } from "./options.js";
import { frameBody, framedBytes, gzipBody, signBody } from "./wire.js";
import { describeUrl, postBatch, readyTransport } from "../http.js";
import type { Transport } from "../transport.js";
import type { Sink } from "../../pipeline/sink.js";
import type { QueuedEvent } from "../../pipeline/queue.js";

export interface CollectorSinkOptions {
  collector: ResolvedCollector;
  requestTimeoutMs: number;
  transport: Transport;
}

interface Prepared {
  gzipped: Buffer;
  signature: string;
}

/**
 * Posts each batch to a baseplate-style event collector: framed for the protocol version,
 * signed (HMAC-SHA256 of the uncompressed body), gzip-compressed.
 */
export function collectorSink(options: CollectorSinkOptions): Sink {
  const { url, version, keyName, key, userAgent } = options.collector;
  // The forwarder hands the same array to every retry of a batch: frame, sign and gzip it once.
  const prepared = new WeakMap<readonly QueuedEvent[], Prepared>();

  async function prepare(events: readonly QueuedEvent[]): Promise<Prepared> {
    let done = prepared.get(events);
    if (done === undefined) {
      const body = Buffer.from(
        frameBody(
          version,
          events.map((event) => event.json),
        ),
        "utf8",
      );
      done = { gzipped: await gzipBody(body), signature: signBody(keyName, key, body) };
      prepared.set(events, done);
    }
    return done;
  }

  return {
    description: `collector ${describeUrl(url)}`,
    bodyBytes: (count, payloadBytes) => framedBytes(version, count, payloadBytes),
    ready: () => readyTransport(options.transport),
    async send(events, signal) {
      let batch: Prepared;
      try {
        batch = await prepare(events);
      } catch (error) {
        return { ok: false, retry: false, reason: `could not compress the batch: ${(error as Error).message}` };
      }
      return postBatch({
        transport: options.transport,
        url,
        headers: {
          "content-type": "application/json",
          "content-encoding": "gzip",
          date: new Date().toUTCString(),
          "user-agent": userAgent,
          "x-signature": batch.signature,
        },
        body: batch.gzipped,
        timeoutMs: options.requestTimeoutMs,
        signal,
        explain: (status, body) =>
          `collector answered HTTP ${status}${body.trim() === "" ? "" : `: ${body.slice(0, 500)}`}${status === 401 || status === 403 ? " (the collector refuses the key: check the key name and secret it expects)" : ""}`,
        // baseplate's publisher retries every status from 500.
        retryEvery5xx: true,
      });
    },
  };
}
