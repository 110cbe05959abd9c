/**
 * The app bench/soak.ts runs for minutes: Express with events-forward mounted (default options but
 * the store, the spool and, for the memory queue, a bound that holds a 30 s outage), each request
 * recorded (a request event) and putting one event of its own. It measures itself and answers the
 * parent over IPC: `sample` (heap after a full GC, RSS, open file descriptors, event-loop delay p99
 * since the last sample, the forwarder's stats), `peek` (the stats alone, no GC), `drain` (waits
 * until nothing is queued), `close`.
 */
import express from "express";
import { readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { eventsForward, type EventsForwardOptions } from "./lib/package.js";

const options = JSON.parse(process.argv[2]!) as EventsForwardOptions;
// What the forwarder logs (an outage's episode: one line when it starts, one when it ends) goes to stderr, timed.
const since = performance.now();
const log = (level: string) => (message: string) =>
  console.error(`  [app ${((performance.now() - since) / 1000).toFixed(1)} s] ${level}: ${message.slice(0, 200)}`);
const events = eventsForward({ ...options, instance: "soak", logger: { warn: log("warn"), error: log("error") } });
let handled = 0;

const app = express();
app.use(events);
app.get("/hit/:n", (req, res) => {
  try {
    req.events.put({ event: "soak", properties: { n: Number(req.params.n) } });
  } catch {
    // Refused (the queue is full): counted in stats().overflowed.
  }
  handled++;
  res.send("ok");
});

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

export interface Sample {
  heapMB: number;
  rssMB: number;
  fds: number;
  loopDelayP99Ms: number;
  handled: number;
  stats: ReturnType<typeof events.stats>;
}

function sample(): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const result: Sample = {
    heapMB: memory.heapUsed / 2 ** 20,
    rssMB: memory.rss / 2 ** 20,
    fds: readdirSync("/proc/self/fd").length,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    handled,
    stats: events.stats(),
  };
  delay.reset();
  return result;
}

const server = app.listen(0, "127.0.0.1", () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});

process.on("message", async (message: { ask: string; id: number; timeoutMs?: number }) => {
  let answer: unknown;
  if (message.ask === "sample") answer = sample();
  else if (message.ask === "peek") answer = { stats: events.stats() };
  else if (message.ask === "drain") {
    const until = Date.now() + (message.timeoutMs ?? 120_000);
    while (events.stats().queued > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    answer = sample();
  } else if (message.ask === "close") {
    await new Promise((resolve) => server.close(resolve));
    answer = await events.close();
  }
  process.send!({ id: message.id, answer }, () => {
    if (message.ask === "close") process.exit(0);
  });
});
