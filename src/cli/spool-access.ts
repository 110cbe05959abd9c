import { OptionError } from "../core/errors.js";
import type { DeadLetterStore } from "../spool/dead-letters.js";
import { RedisConnection } from "../spool/redis/connection.js";
import { RedisDeadLetters } from "../spool/redis/dead-letters.js";
import { RedisSpoolInspector } from "../spool/redis/status.js";
import { SqliteDeadLetters } from "../spool/sqlite/dead-letters.js";
import { SqliteSpoolInspector } from "../spool/sqlite/status.js";
import type { SpoolInspector } from "../spool/status.js";
import type { SpoolTarget } from "./spool-target.js";

/** How long the CLI waits for Redis to answer a command. */
const REDIS_TIMEOUT_MS = 5_000;

/** The dead letters of the target's spool, whichever kind it is. */
export async function openDeadLetters(target: SpoolTarget): Promise<DeadLetterStore> {
  if (target.redis === undefined)
    // The operator names the file (or the sidecar's configuration does): a link is theirs.
    return new SqliteDeadLetters(target.path!, Number.MAX_SAFE_INTEGER, { warn() {}, error() {} }, "--spool", true);
  const connection = await checkedRedis(target);
  return new RedisDeadLetters(connection, target.redis.key);
}

/** The status reader of the target's spool, whichever kind it is. */
export async function openInspector(target: SpoolTarget): Promise<SpoolInspector> {
  if (target.redis === undefined) return new SqliteSpoolInspector(target.path!);
  return new RedisSpoolInspector(await checkedRedis(target), target.name, target.redis.key);
}

/**
 * A connection to the target's Redis, once it is known to hold that spool: a mistyped key would
 * otherwise look like an empty spool, as a mistyped path would.
 */
async function checkedRedis(target: SpoolTarget): Promise<RedisConnection> {
  const connection = new RedisConnection(target.redis!.url, REDIS_TIMEOUT_MS);
  let exists: boolean;
  try {
    exists = await new RedisSpoolInspector(connection, target.name, target.redis!.key).exists();
  } catch (error) {
    await connection.close();
    throw new OptionError("--spool", `cannot read ${target.name}: ${(error as Error).message}`, { cause: error });
  }
  if (exists) return connection;
  await connection.close();
  throw new OptionError(
    target.configured ? "spool.key" : "--key",
    `there is no spool with key ${target.redis!.key} at ${target.name.replace(/ \(key .*\)$/, "")}: no process has used that key (or Redis has lost its data since)`,
  );
}
