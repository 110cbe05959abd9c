/**
 * Writing a row's bytes straight into a batch body, in JavaScript: the pieces of a row are short,
 * and a call into Buffer.write costs more than copying a few dozen bytes here (and would first
 * flatten the row's text, which then is garbage).
 */

/** Writes a string of one-byte characters (ASCII, as put() checked) at `at`; returns where it ends. */
export function writeAscii(into: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) into[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Copies bytes made once (a segment shared by many rows) at `at`; returns where they end. */
export function writeBytes(into: Uint8Array, at: number, bytes: Uint8Array): number {
  into.set(bytes, at);
  return at + bytes.length;
}
