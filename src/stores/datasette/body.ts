/** Room past the expected end: any character written past it shows that a count was short. */
const SLACK = 4;

/**
 * A batch body: `prefix`, the payloads joined by commas, `suffix`. When the caller knows the
 * payloads' UTF-8 bytes exactly, they are written straight into one Buffer of the body's size:
 * no joined string (for a large batch, a large-object allocation) and no second copy when the
 * HTTP client encodes it. Should the count be wrong, the joined string is sent instead.
 */
export function batchBody(prefix: string, payloads: readonly string[], suffix: string, payloadBytes?: number): string | Buffer {
  if (payloadBytes === undefined || payloads.length === 0) return joined(prefix, payloads, suffix);
  const end = Buffer.byteLength(prefix) + payloadBytes + (payloads.length - 1);
  const body = Buffer.allocUnsafe(end + Buffer.byteLength(suffix) + SLACK);
  let at = body.write(prefix, 0);
  for (let i = 0; i < payloads.length; i++) {
    if (i > 0) body[at++] = 0x2c; // ,
    at += body.write(payloads[i]!, at);
  }
  // Too many bytes would run past `end` (SLACK holds at least one more character); too few stop short.
  if (at !== end) return joined(prefix, payloads, suffix);
  return body.subarray(0, at + body.write(suffix, at));
}

function joined(prefix: string, payloads: readonly string[], suffix: string): string {
  return `${prefix}${payloads.join(",")}${suffix}`;
}
