import type { Logger } from "./log.js";

/** Shutdowns started by a signal and not finished, across every forwarder of the process. */
const draining = new Set<Promise<unknown>>();

/**
 * Installs handlers that, on the first of `signals`, close the forwarder (draining within its
 * deadline) and then let the process end as the signal would have ended it. Returns the function
 * that removes them (close() calls it).
 *
 * Node only terminates on SIGTERM/SIGINT when nobody listens, so:
 * - the handlers are removed as soon as a signal arrives: a second Ctrl-C ends the process at once;
 * - after the drain, if no other listener of that signal remains, the signal is raised again, so
 *   the process dies of it (the exit status a supervisor expects: 128 + signal number);
 * - if the app listens too, its handler decides when to exit: nothing is raised.
 */
export function installShutdownSignals(
  signals: readonly NodeJS.Signals[],
  close: () => Promise<unknown>,
  logger: Logger,
  keepAliveMs: number,
): () => void {
  const remove = () => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    remove();
    // Forwarder timers are unref'd; this one keeps the process alive for the drain.
    const keepAlive = setTimeout(() => {}, keepAliveMs);
    const done = close().catch((error: unknown) =>
      logger.error(`closing on ${signal} failed: ${(error as Error).message}`),
    );
    draining.add(done);
    void done.then(async () => {
      draining.delete(done);
      // Another forwarder may still be draining on the same signal: end the process after all.
      await Promise.allSettled([...draining]);
      clearTimeout(keepAlive);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}
