/** Driving an app server (bench/lib/*-server.ts) with autocannon, and reading its CPU time. */
import autocannon from "autocannon";
import type { Child } from "./processes.js";

/** What one load run sends; by default GET / on 10 connections, no pipelining. */
export interface LoadRequest {
  path?: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

export const CONNECTIONS = 10;

export async function load(port: number, duration: number, request: LoadRequest = {}): Promise<autocannon.Result> {
  const { path = "/", ...rest } = request;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    ...rest,
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`load run failed: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  }
  return result;
}

/** Sends `question` to the server process and resolves with its first answer that has `key`. */
export function ask<T>(child: Child, question: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const listen = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      child.process.off("message", listen);
      resolve(message as T);
    };
    child.process.on("message", listen);
    child.process.send(question);
  });
}

type Cpu = { cpu: number; handled: number };

/** One load run: req/s as autocannon saw it, and the server's CPU µs per request handled. */
export async function measure(
  server: Child,
  duration: number,
  request?: LoadRequest,
): Promise<{ rps: number; cpuPerRequest: number }> {
  const before = await ask<Cpu>(server, "cpu", "cpu");
  const result = await load(server.port, duration, request);
  const after = await ask<Cpu>(server, "cpu", "cpu");
  return {
    rps: result.requests.total / result.duration,
    cpuPerRequest: (after.cpu - before.cpu) / (after.handled - before.handled),
  };
}
