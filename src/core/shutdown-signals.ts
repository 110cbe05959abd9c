import type { Logger } from "./log.js";

/** A forwarder as the process's ending sees it. */
export interface Ending {
  /** The signals it drains on (option shutdownSignals); may be none. */
  signals: readonly NodeJS.Signals[];
  /** Events still waiting: a natural end (beforeExit) closes only a forwarder that has some. */
  waiting(): number;
  /** close({ timeoutMs: shutdownTimeoutMs }): drains within the deadline. */
  close(): Promise<unknown>;
  logger: Logger;
  /** How long a drain on a signal may keep the process alive (the deadline plus a grace). */
  keepAliveMs: number;
}

/** Every forwarder of the process that is not closed: one listener per signal serves them all. */
const open = new Set<Ending>();
const listening = new Map<NodeJS.Signals, () => void>();
/** Set by the first signal: no handler is installed again, so a second signal ends the process at once. */
let signalled = false;
const hasProcess = typeof process === "object" && typeof process?.on === "function";

/**
 * Registers a forwarder for the two ways a process ends that leave time to drain:
 *
 * - a signal (SIGTERM from an orchestrator, SIGINT from Ctrl-C): every forwarder that names it
 *   closes (draining within its deadline); then, if the app has no listener of its own for that
 *   signal, the signal is raised again, so the process dies of it (exit status 128 + signal
 *   number, as supervisors expect); if the app listens too, its handler decides when to exit.
 *   Node only terminates on SIGTERM/SIGINT when nobody listens, so the listeners are removed as
 *   soon as a signal arrives: a second Ctrl-C ends the process at once.
 * - the event loop emptying (beforeExit: the app closed its server, a script ran to its end)
 *   while events wait: the forwarder closes, draining within its deadline (close()'s deadline
 *   timer keeps the process alive meanwhile); what it could not deliver is logged with a count.
 *   `process.exit()` and SIGKILL do not pass here: memory loses what it holds, a spool keeps it.
 *
 * Returns the function that unregisters it (close() calls it).
 */
export function registerEnding(ending: Ending): () => void {
  if (!hasProcess) return () => {};
  open.add(ending);
  sync();
  return () => {
    open.delete(ending);
    sync();
  };
}

/** One listener per signal some open forwarder names, and one for beforeExit while any is open. */
function sync(): void {
  const wanted = new Set(signalled ? [] : [...open].flatMap((ending) => ending.signals));
  for (const [signal, listener] of listening) {
    if (wanted.has(signal)) continue;
    process.removeListener(signal, listener);
    listening.delete(signal);
  }
  for (const signal of wanted) {
    if (listening.has(signal)) continue;
    const listener = () => onSignal(signal);
    listening.set(signal, listener);
    process.on(signal, listener);
  }
  if (open.size > 0) {
    if (process.listeners("beforeExit").includes(onBeforeExit)) return;
    process.on("beforeExit", onBeforeExit);
  } else process.removeListener("beforeExit", onBeforeExit);
}

function onSignal(signal: NodeJS.Signals): void {
  // Seen now, while ours is still there: an app's `process.once` handler is gone after the drain.
  const appListens = process.listenerCount(signal) > 1;
  signalled = true;
  sync();
  const closing = [...open].filter((ending) => ending.signals.includes(signal));
  // The forwarders' timers are unref'd; this one keeps the process alive for the drains.
  const keepAlive = setTimeout(() => {}, Math.max(0, ...closing.map((ending) => ending.keepAliveMs)));
  void Promise.allSettled(
    closing.map((ending) =>
      ending
        .close()
        .catch((error: unknown) => ending.logger.error(`closing on ${signal} failed: ${(error as Error).message}`)),
    ),
  ).then(() => {
    clearTimeout(keepAlive);
    if (!appListens && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** The loop emptied: nothing the app does can put events any more; deliver what waits. */
function onBeforeExit(): void {
  for (const ending of [...open]) {
    if (ending.waiting() === 0) continue;
    // close() unregisters it: a later beforeExit does not close it again.
    void ending
      .close()
      .catch((error: unknown) =>
        ending.logger.error(`closing before the process ends failed: ${(error as Error).message}`),
      );
  }
}
