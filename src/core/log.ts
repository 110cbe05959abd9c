import { printable } from "./printable.js";

/** Where the forwarder reports trouble. Messages never contain tokens or keys. */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

/** Messages can quote a store's answer: one message stays one line, with no control character. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[events-forward] ${printable(message)}`),
  error: (message) => console.error(`[events-forward] ${printable(message)}`),
};

export const silentLogger: Logger = { warn() {}, error() {} };
