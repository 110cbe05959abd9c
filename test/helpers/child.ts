import { fork, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "./datasette-venv.js";
import { waitFor } from "./wait.js";

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every IPC message it sent, in order. */
  readonly messages: Array<Record<string, unknown>>;
  /** The last 8000 characters of its stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once it exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Waits for a message that satisfies `test`. */
  message(
    test: (message: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Runs a TypeScript file (through tsx) as a child process with an IPC channel. */
export function startChild(file: string, args: string[], env: Record<string, string>): Child {
  const child = fork(file, args, {
    cwd: PROJECT_ROOT,
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  running.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const messages: Array<Record<string, unknown>> = [];
  child.on("message", (message) => messages.push(message as Record<string, unknown>));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    pid: child.pid!,
    messages,
    output: () => output,
    exited,
    async message(test, what, timeoutMs = 20_000) {
      let found: Record<string, unknown> | undefined;
      await waitFor(
        () => {
          found = messages.find(test);
          if (found === undefined && done)
            throw new Error(`child ${child.pid} exited while waiting for ${what}:\n${output}`);
          return found !== undefined;
        },
        { timeoutMs, what: `${what} from child ${child.pid}` },
      );
      return found!;
    },
  };
}

/** Sends SIGKILL and waits until the process is gone. */
export async function killHard(child: Child): Promise<void> {
  child.process.kill("SIGKILL");
  await child.exited;
}

/** How a fixture run without IPC (runToExit) ended. */
export interface FixtureRun {
  code: number | null;
  signal: string | null;
  /** From start to exit. */
  ms: number;
  /** What it printed on stdout, parsed as JSON ({} if nothing). */
  stats: Record<string, number>;
  stderr: string;
}

/**
 * Runs a TypeScript fixture (through tsx) without an IPC channel, which would keep it alive,
 * and resolves once it ended: by itself, or killed after `killAfterMs` (a handle kept it alive).
 */
export function runToExit(fixture: URL, env: Record<string, string>, killAfterMs = 20_000): Promise<FixtureRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(fixture)], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, ms: performance.now() - started, stats: stdout ? JSON.parse(stdout) : {}, stderr });
    });
  });
}

/** A fixture started without IPC (runToExit's way), once it printed `ready[ DETAIL]` on stdout. */
export interface ReadyChild {
  readonly process: ChildProcess;
  /** What followed `ready ` on its line (a port, say). */
  readonly detail: string;
  /** Resolves once it ended: its exit code or the signal that ended it, and its stderr. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts a TypeScript fixture through tsx without an IPC channel; resolves when it says `ready`. */
export async function startUntilReady(fixture: URL, env: Record<string, string>): Promise<ReadyChild> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(fixture)], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stderr });
    }),
  );
  const detail = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^ready ?(.*)$/m.exec(stdout);
      if (line !== null) resolve(line[1]!.trim());
    });
    void exit.then((ended) => reject(new Error(`the fixture ended before it was ready: ${JSON.stringify(ended)}`)));
  });
  return { process: child, detail, exit };
}
