import { createSocket } from "node:dgram";

export interface StatsdReceiver {
  /** host:port, for the option metrics.endpoint. */
  readonly endpoint: string;
  /** Every statsd line received, e.g. "app.events.sent:3|c". */
  readonly lines: string[];
  /** The sum of a counter's values, by its full name. */
  count(name: string): number;
  /** The values of a timer, by its full name. */
  timings(name: string): number[];
  close(): Promise<void>;
}

/** A UDP socket on a free loopback port that keeps the statsd lines it receives. */
export async function startStatsdReceiver(): Promise<StatsdReceiver> {
  const socket = createSocket("udp4");
  const lines: string[] = [];
  socket.on("message", (message) =>
    lines.push(
      ...message
        .toString()
        .split("\n")
        .filter((line) => line !== ""),
    ),
  );
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const values = (name: string, type: string) =>
    lines.flatMap((line) => {
      const match = /^([^:]+):([^|]+)\|([a-z]+)/.exec(line);
      return match && match[1] === name && match[3] === type ? [Number(match[2])] : [];
    });
  return {
    endpoint: `127.0.0.1:${socket.address().port}`,
    lines,
    count: (name) => values(name, "c").reduce((a, b) => a + b, 0),
    timings: (name) => values(name, "ms"),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
