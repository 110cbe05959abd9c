import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface AnswerLossProxy {
  /** 127.0.0.1:PORT, to put in place of the upstream's host and port. */
  readonly address: string;
  /**
   * Loses the answer to the next request that carries `marker`: the request reaches the server,
   * then `meanwhile` runs (the answer held back), then the client's connection is cut. The client
   * sees a connection error for a command the server ran.
   */
  loseAnswerTo(marker: string, meanwhile?: () => Promise<void>): void;
  /** From now on nothing passes, either way (new connections included). */
  stall(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a real Redis that can lose one answer, the way a network that
 * fails at the wrong moment does: exactly when a retry must not apply a command twice.
 */
export async function startAnswerLossProxy(upstreamPort: number): Promise<AnswerLossProxy> {
  const sockets = new Set<Socket>();
  let marker: string | undefined;
  let meanwhile: () => Promise<void> = async () => {};
  let stalled = false;
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    let losing = false;
    client.on("data", (chunk: Buffer) => {
      if (stalled) return;
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        losing = true;
      }
      upstream.write(chunk);
    });
    let cut = false;
    upstream.on("data", (chunk: Buffer) => {
      if (stalled) return;
      if (!losing) return void client.write(chunk);
      if (cut) return;
      cut = true;
      void meanwhile().finally(() => {
        client.destroy();
        upstream.destroy();
      });
    });
    client.on("close", () => {
      if (!cut) upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    loseAnswerTo(text, then = async () => {}) {
      marker = text;
      meanwhile = then;
    },
    stall() {
      stalled = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
