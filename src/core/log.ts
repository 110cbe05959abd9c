/** Where the forwarder reports trouble. Messages never contain tokens or keys. */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[events-forward] ${message}`),
  error: (message) => console.error(`[events-forward] ${message}`),
};

export const silentLogger: Logger = { warn() {}, error() {} };
