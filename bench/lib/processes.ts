/** Starting the helper processes of a benchmark (sink, app servers) and talking to them. */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Child {
  process: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** Forks a TypeScript entry under tsx and waits for it to send `{ port }` over IPC. */
export function forkWithPort(entry: string, args: string[] = [], execArgv: string[] = []): Promise<Child> {
  const path = entry.startsWith("/") ? entry : fileURLToPath(new URL(entry, import.meta.url));
  const child = fork(path, args, {
    execArgv: ["--import", "tsx", ...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`${entry} ${args.join(" ")} exited with ${code} before it listened`)),
    );
    child.once("message", (message: { port: number }) => {
      child.removeAllListeners("exit");
      resolve({
        process: child,
        port: message.port,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill();
          }),
      });
    });
  });
}

export interface SinkStats {
  events: number;
  requests: number;
  bytes: number;
  badBodies: number;
}

export interface Sink extends Child {
  url: string;
  stats(): Promise<SinkStats>;
  reset(): Promise<SinkStats>;
  /** Resolves once the sink has counted at least `events` (polls; rejects after timeoutMs). */
  waitFor(events: number, timeoutMs: number): Promise<SinkStats>;
}

/** When the sink counts events: see sink-server.ts. */
export async function startSink(mode: "parse" | "store" | "drain" = "parse"): Promise<Sink> {
  const child = await forkWithPort("./sink-server.ts", [mode]);
  const url = `http://127.0.0.1:${child.port}`;
  const get = async (path: string) => (await (await fetch(`${url}${path}`)).json()) as SinkStats;
  return {
    ...child,
    url,
    stats: () => get("/stats"),
    reset: () => get("/reset"),
    async waitFor(events, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = await get("/stats");
        if (stats.events >= events) return stats;
        if (Date.now() > deadline)
          throw new Error(`sink counted ${stats.events} of ${events} events after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}
