// The Redis spool's connection on its own, against a real redis-server: every command ends in
// time, a refusal is told from a failure, and no message holds the URL's password.
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RedisConnection, RedisRefusal } from "../../src/spool/redis/connection.js";
import { RedisServer } from "../helpers/redis-server.js";
import { startStallProxy } from "../helpers/stall-proxy.js";
import { waitFor } from "../helpers/wait.js";

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function server(options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
  const started = await RedisServer.start(options);
  closers.push(() => started.dispose());
  return started;
}

function connect(url: string, timeoutMs = 2_000): RedisConnection {
  const made = new RedisConnection(url, timeoutMs);
  closers.push(() => made.close());
  return made;
}

const release = (connection: RedisConnection) => connection.run("leaseRelease", ["{c}:lease"], ["nobody"]);

/** A port that accepts connections and never answers. */
async function silentPort(): Promise<number> {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => silent.close(resolve));
  });
  return (silent.address() as AddressInfo).port;
}

describe("RedisConnection", () => {
  it("runs the spool's scripts with their keys and arguments (numbers sent as text)", async () => {
    const redis = await server();
    const connection = connect(redis.url);
    expect(await connection.run("leaseClaim", ["{c}:lease"], ["me", "host", 12, 60_000])).toBe(2);
    expect(JSON.parse(await redis.cli("GET", "{c}:lease"))).toMatchObject({ id: "me", host: "host", pid: 12 });
    expect(await release(connection)).toBe(0);
    expect(connection.problem).toBe("");
  });

  it("a Redis error is a RedisRefusal (reachable, but it refuses), with Redis's words", async () => {
    const redis = await server();
    await redis.cli("RPUSH", "{c}:lease", "a list, not a string");
    const failure = await release(connect(redis.url)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RedisRefusal);
    expect((failure as Error).name).toBe("RedisRefusal");
    expect((failure as Error).message).toMatch(/WRONGTYPE/);
    expect((failure as Error).cause).toBeInstanceOf(Error); // Redis's own, for a closer look
  });

  it("a wrong password fails at once, and neither the error nor problem holds the password, as written or decoded", async () => {
    const redis = await server({ password: "s3cr@t/pw" });
    const url = `redis://:${encodeURIComponent("wr@ng/pw")}@127.0.0.1:${redis.port}`;
    const connection = connect(url);
    const started = Date.now();
    const failure = (await release(connection).catch((error: unknown) => error)) as Error;
    expect(Date.now() - started).toBeLessThan(5_000); // the first connection's error, not the 10 s wait for one
    expect(failure).not.toBeInstanceOf(RedisRefusal);
    expect(failure.cause).toBeInstanceOf(Error);
    expect(failure.message).toMatch(/WRONGPASS|invalid username-password/);
    for (const text of [failure.message, connection.problem]) {
      expect(text).not.toContain("wr@ng/pw");
      expect(text).not.toContain(encodeURIComponent("wr@ng/pw"));
    }
    expect(connection.problem).not.toBe("");
  });

  it("scrubs the password from a message that repeats the URL", async () => {
    const url = `redis://:${encodeURIComponent("p@ss")}@127.0.0.1:1/0`;
    const connection = connect(url);
    const failure = (await release(connection).catch((error: unknown) => error)) as Error;
    expect(failure.message).toMatch(/ECONNREFUSED/);
    const scrub = (connection as unknown as { scrub(message: string): string }).scrub.bind(connection);
    expect(scrub(`cannot reach ${url} (p@ss)`)).toBe("cannot reach redis://:***@127.0.0.1:1/0 (***)");
    expect(scrub("no password here")).toBe("no password here");
    const plain = connect("redis://127.0.0.1:1");
    expect((plain as unknown as { scrub(message: string): string }).scrub("redis://127.0.0.1:1 x")).toBe(
      "redis://127.0.0.1:1 x",
    );
  });

  it("a command that gets no answer rejects after its timeout, naming the command", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.push(() => proxy.close());
    const connection = connect(`redis://${proxy.address}`, 300);
    await release(connection);
    proxy.stall();
    const started = Date.now();
    await expect(release(connection)).rejects.toThrow("Redis did not answer within 300 ms (leaseRelease)");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    proxy.resume();
  });

  it("a server that accepts and never answers: the first command waits for a connection, then fails in words", async () => {
    const connection = connect(`redis://127.0.0.1:${await silentPort()}`, 300);
    const failure = (await release(connection).catch((error: unknown) => error)) as Error;
    expect(failure.message).toBe("Redis did not answer within 10000 ms (no connection yet)");
  }, 20_000);

  it("commands sent while Redis is away wait for it and go once it is back", async () => {
    const redis = await server();
    const connection = connect(redis.url, 5_000);
    await release(connection);
    await redis.stop();
    await waitFor(() => connection.problem !== "", { what: "the connection to notice" });
    const pending = release(connection);
    await redis.restart();
    expect(await pending).toBe(0);
  }, 20_000);

  it("close() before any connection returns at once; after it, commands fail", async () => {
    const never = new RedisConnection(`redis://127.0.0.1:${await silentPort()}`, 5_000);
    const started = Date.now();
    await never.close();
    expect(Date.now() - started).toBeLessThan(1_000);

    const redis = await server();
    const connection = new RedisConnection(redis.url, 2_000);
    await release(connection);
    await connection.close();
    await expect(release(connection)).rejects.toThrow();
    await connection.close(); // twice: nothing left to close
  });

  it("close() of a connection whose server stalls ends within the timeout (the client is dropped)", async () => {
    const redis = await server();
    const proxy = await startStallProxy(redis.port);
    closers.push(() => proxy.close());
    const connection = new RedisConnection(`redis://${proxy.address}`, 300);
    await release(connection);
    proxy.stall();
    void release(connection).catch(() => {});
    const started = Date.now();
    await connection.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    proxy.resume();
  });

  it("tries to reconnect after 50 ms, doubling each time, never waiting more than 1 s; a connection attempt lasts at most the timeout", () => {
    const connection = connect("redis://127.0.0.1:1", 700);
    const { socket } = (
      connection as unknown as {
        clientOptions(): { socket: { connectTimeout: number; reconnectStrategy: (retries: number) => number } };
      }
    ).clientOptions();
    expect(socket.connectTimeout).toBe(700);
    expect([0, 1, 2, 3, 4, 5, 10, 11, 50].map(socket.reconnectStrategy)).toEqual([
      50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000,
    ]);
  });
});
