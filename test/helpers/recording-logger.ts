import type { Logger } from "../../src/index.js";

/** A logger that keeps what the forwarder reports, so tests can check the words and the secrets. */
export function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    warn: (message) => messages.push(`warn: ${message}`),
    error: (message) => messages.push(`error: ${message}`),
  };
}
