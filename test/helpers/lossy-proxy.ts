import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request that went through the proxy, and what the upstream answered. */
export interface ProxiedRequest {
  path: string;
  body: string;
  status: number;
  /** The answer never reached the client: the proxy cut the connection instead. */
  lost: boolean;
}

export interface LossyProxy {
  /** http://127.0.0.1:PORT: use it in place of the upstream's origin. */
  readonly url: string;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a real server that loses answers: the first `loseResponses`
 * requests are forwarded and fully answered upstream, then the client's socket is destroyed
 * instead of relaying the answer. The client sees a network error for a request that worked,
 * which is exactly when a retry must not write twice.
 */
export async function startLossyProxy(
  upstream: string,
  { loseResponses }: { loseResponses: number },
): Promise<LossyProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  let toLose = loseResponses;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const answer = await forward(target, req, body);
      const lost = toLose > 0;
      if (lost) toLose--;
      requests.push({ path: req.url ?? "", body: body.toString(), status: answer.status, lost });
      if (lost) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })().catch((error: Error) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy error: ${error.message}`);
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return { url, requests, close };
}

/** Listens on a free loopback port: the origin to use, and a close() that cuts open connections. */
export async function listenOnLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, connection: "close" };
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (response) => {
        readAll(response).then((answer) => {
          const relayed: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined && name !== "connection" && name !== "transfer-encoding") relayed[name] = value;
          }
          resolve({ status: response.statusCode ?? 502, headers: relayed, body: answer });
        }, reject);
      },
    );
    upstream.once("error", reject);
    upstream.end(body);
  });
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
