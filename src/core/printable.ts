/**
 * Text that came from outside (a store's answer, Datasette's `errors`, a spool's rows) made safe to
 * print on a terminal or as one log line: C0 controls (newlines too), DEL and C1 controls become
 * visible escapes (`\n`, `\u001b`, `\u009b`), so an answer can neither move the cursor, retitle or
 * clear the terminal, nor forge a line of its own. Backslashes are left as they are: the text stays
 * readable, and an escape it already held reads the same as one this made (it is a display form).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function printable(text: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL, escapeControl);
}

function escapeControl(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * JSON text for a terminal: JSON.stringify escapes C0 controls but writes DEL, C1 controls and
 * U+2028/U+2029 as they are; those are escaped too (still the same JSON value).
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, escapeControl);
}
