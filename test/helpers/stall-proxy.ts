import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface StallProxy {
  /** 127.0.0.1:PORT, to put in place of the upstream's host and port. */
  readonly address: string;
  /** From now on nothing passes, either way; connections stay open (a stalled network, not a closed one). */
  stall(): void;
  /** Lets what waited, and what follows, through again. */
  resume(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a real server that can stall every connection through it:
 * the client's commands wait unanswered, as behind a frozen network or a paused VM, while other
 * clients (connected directly) carry on.
 */
export async function startStallProxy(upstreamPort: number): Promise<StallProxy> {
  const sockets = new Set<Socket>();
  let stalled = false;
  /** What arrived while stalled, per direction, to pass on at resume. */
  const waiting: Array<{ to: Socket; chunk: Buffer }> = [];
  const relay = (from: Socket, to: Socket) =>
    from.on("data", (chunk: Buffer) => {
      if (stalled) waiting.push({ to, chunk });
      else to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    relay(client, upstream);
    relay(upstream, client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const { to, chunk } of waiting.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
