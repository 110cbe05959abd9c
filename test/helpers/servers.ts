// The real servers a test file shares, started before its tests and stopped after them. Kept
// apart from datasette.ts and redis-server.ts, which the benchmarks import without vitest.
import { afterAll, beforeAll } from "vitest";
import { DatasetteServer } from "./datasette.js";
import { RedisServer, type RedisServerOptions } from "./redis-server.js";

/** Something a whole test file shares: started before its tests, ended after them; read it inside a test. */
export function eachFile<T>(what: string, start: () => Promise<T>, end: (value: T) => Promise<unknown>): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value !== undefined) await end(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${what} starts before the file's tests: use it inside a test`);
    return value;
  };
}

/** A real Datasette for the file: `const t = useDatasette();`, then `t.ds`. */
export function useDatasette(options: Parameters<typeof DatasetteServer.start>[0] = {}): {
  readonly ds: DatasetteServer;
} {
  const ds = eachFile(
    "Datasette",
    () => DatasetteServer.start(options),
    (server) => server.dispose(),
  );
  return {
    get ds() {
      return ds();
    },
  };
}

/** A redis-server for the file: `const redis = useRedisServer(options);`, then `redis.server`. */
export function useRedisServer(options: RedisServerOptions = {}): { readonly server: RedisServer } {
  const server = eachFile(
    "the redis-server",
    () => RedisServer.start(options),
    (started) => started.dispose(),
  );
  return {
    get server() {
      return server();
    },
  };
}
