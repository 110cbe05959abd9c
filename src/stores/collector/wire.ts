import type { KeyObject } from "node:crypto";
import { builtin } from "../../core/builtin.js";

/** The collector protocol versions: the path is `/v<version>`, the body framing depends on it. */
export type CollectorVersion = "1" | "2" | "2j";

/**
 * One batch body from ready event texts. Versions 1 and 2j: a JSON array. Version 2: the events
 * are Thrift-JSON structs, wrapped as a one-field struct holding a list of them.
 */
export function frameBody(version: CollectorVersion, payloads: readonly string[]): string {
  const joined = payloads.join(",");
  return version === "2" ? `${v2Head(payloads.length)}${joined}${V2_TAIL}` : `[${joined}]`;
}

/** The exact byte length frameBody() would produce, from the count and the events' total bytes. */
export function framedBytes(version: CollectorVersion, count: number, payloadBytes: number): number {
  const commas = Math.max(0, count - 1);
  const frame = version === "2" ? v2Head(count).length + V2_TAIL.length : 2;
  return frame + payloadBytes + commas;
}

const V2_TAIL = "]}}";
function v2Head(count: number): string {
  return `{"1":{"lst":["rec",${count},`;
}

/** `key=<name>, mac=<hex HMAC-SHA256 of the uncompressed body>`. */
export function signBody(keyName: string, key: KeyObject, body: Buffer): string {
  return `key=${keyName}, mac=${builtin("node:crypto").createHmac("sha256", key).update(body).digest("hex")}`;
}

/** gzip on the thread pool: a 500 KiB batch must not stall the app's event loop. */
export function gzipBody(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    builtin("node:zlib").gzip(body, (error, gzipped) => (error ? reject(error) : resolve(gzipped))),
  );
}
