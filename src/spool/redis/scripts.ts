/**
 * The Redis spool's Lua scripts: each runs atomically on the server, so processes on many hosts
 * can share one outbox. Every key of one spool carries the hash tag `{key}`, so they all live in
 * one Redis Cluster slot and a script may touch several of them.
 *
 * The outbox is a list, `{key}:events`, of event texts, oldest first; `{key}:base` counts the
 * events ever removed from its front, so the event at index i has the sequence number base + i
 * for as long as it waits. Sequence numbers make acknowledgements idempotent: "everything up to
 * seq S was delivered" removes nothing twice, whoever says it and however late.
 *
 * The history has an identity, `{key}:epoch` (a random part, `@`, the `run_id` of the server
 * that made it): a new one whenever Redis holds no epoch (a new spool, or Redis lost its data:
 * restarted empty, flushed, evicted), whenever another server process answers (a restart, which
 * may have lost the last second of an `everysec` append-only file, or a failover to a replica
 * that may lag), and whenever the list's head (base + length) went back below what the caller saw.
 * A caller sends the epoch it knows with every read, append and acknowledgement; when it is not
 * the current one, its sequence numbers belong to a history that may be gone: nothing is trimmed,
 * and it starts over from the current base (at worst a batch is sent again, with the same ids).
 *
 * Out of memory (maxmemory, noeviction), Redis refuses APPEND before it runs (a script without
 * the allow-oom flag), so a group is appended whole or not at all; the other scripts carry
 * allow-oom: removing delivered events, the lease and the rate window must work then, or nobody
 * could drain the spool. The shebang flags need Redis 7.
 */

export interface SpoolKeys {
  readonly events: string;
  readonly base: string;
  /** The identity of the outbox's history (see above). */
  readonly epoch: string;
  readonly lease: string;
  readonly rate: string;
  /** The last group a writer appended (to make a retried append idempotent). */
  writer(id: string): string;
}

export function spoolKeys(key: string): SpoolKeys {
  const tag = `{${key}}`;
  return {
    events: `${tag}:events`,
    base: `${tag}:base`,
    epoch: `${tag}:epoch`,
    lease: `${tag}:lease`,
    rate: `${tag}:rate`,
    writer: (id) => `${tag}:writer:${id}`,
  };
}

/**
 * Lua shared by APPEND and FRONT: the list's base and length, and its epoch, made anew when there
 * is none, when another server process made it, or when the head went back below `minHead` in
 * the epoch the caller knows.
 */
const HISTORY = `
local function history(events, baseKey, epochKey, known, candidate, minHead)
  local base = tonumber(redis.call('GET', baseKey) or '0')
  local len = redis.call('LLEN', events)
  local server = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  local epoch = redis.call('GET', epochKey)
  if not epoch or string.sub(epoch, -#server) ~= server or (epoch == known and base + len < tonumber(minHead)) then
    epoch = candidate .. '@' .. server
    redis.call('SET', epochKey, epoch)
  end
  return base, len, epoch
end
`;

/**
 * KEYS: events, writer, base, epoch. ARGV: maxEvents, groupId, writerTtlMs, epoch known,
 * candidate epoch, head seen, event...
 * Appends as many of the group's events as fit under maxEvents (never trimming others), in order;
 * returns { appended, events now in the list, base, epoch }. A group sent again (its answer was
 * lost) is not appended twice: the writer key remembers the last group and how much of it went in.
 */
export const APPEND = `#!lua
${HISTORY}
local base, len, epoch = history(KEYS[1], KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6])
local done = redis.call('GET', KEYS[2])
if done then
  local sep = string.find(done, ':', 1, true)
  if string.sub(done, 1, sep - 1) == ARGV[2] then
    return { tonumber(string.sub(done, sep + 1)), len, base, epoch }
  end
end
local n = math.max(0, math.min(#ARGV - 6, tonumber(ARGV[1]) - len))
-- unpack() takes at most a few thousand values: push in chunks.
for i = 7, 6 + n, 1000 do redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, 6 + n))) end
redis.call('SET', KEYS[2], ARGV[2] .. ':' .. n, 'PX', ARGV[3])
return { n, len + n, base, epoch }
`;

/**
 * KEYS: events, base, epoch. ARGV: ackThrough, from, count, epoch known, candidate epoch, head seen,
 * maxBytes (0: no bound).
 * Removes the events up to sequence number ackThrough (delivered or dropped; -1: none), then
 * reads up to `count` events from sequence number `from` on, at most `maxBytes` of them in all
 * (at least one), in small LRANGE chunks: the reply never carries more than a batch, however
 * large `count` and the events are. In another epoch than the one known, removes nothing and
 * reads from the base. Returns { seq of the first event read, events left in the list, base,
 * epoch, event... }.
 */
export const FRONT = `#!lua flags=allow-oom
${HISTORY}
local base, len, epoch = history(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[5], ARGV[6])
local from = tonumber(ARGV[2])
if epoch == ARGV[4] then
  local n = math.min(tonumber(ARGV[1]) - base + 1, len)
  if n > 0 then
    redis.call('LTRIM', KEYS[1], n, -1)
    redis.call('INCRBY', KEYS[2], n)
    base = base + n
    len = len - n
  end
else
  from = base
end
from = math.max(from - base, 0)
local count = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[7] or '0') or 0
local reply = { base + from, len, base, epoch }
local at, bytes = from, 0
while count > 0 and at < len do
  local items = redis.call('LRANGE', KEYS[1], at, at + math.min(count, 32) - 1)
  if #items == 0 then break end
  for i = 1, #items do
    bytes = bytes + #items[i]
    if maxBytes > 0 and bytes > maxBytes and #reply > 4 then count = 0 break end
    reply[#reply + 1] = items[i]
    count = count - 1
  end
  at = at + #items
end
return reply
`;

/**
 * KEYS: lease. ARGV: holderId, host, pid, leaseMs.
 * Renews the lease if this holder has it; takes it if nobody does (SET NX PX), recording who
 * (host, pid) and since when (Redis's clock, ms). Returns 2 taken, 1 renewed, 0 held by another.
 */
export const LEASE_CLAIM = `#!lua flags=allow-oom
local current = redis.call('GET', KEYS[1])
if current then
  if cjson.decode(current).id == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return 1
  end
  return 0
end
local t = redis.call('TIME')
local since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder = cjson.encode({ id = ARGV[1], host = ARGV[2], pid = tonumber(ARGV[3]), since = since })
if redis.call('SET', KEYS[1], holder, 'NX', 'PX', ARGV[4]) then return 2 end
return 0
`;

/** KEYS: lease. ARGV: holderId. Gives the lease up if this holder has it; returns 1 if it did. */
export const LEASE_RELEASE = `#!lua flags=allow-oom
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).id == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * KEYS: rate. ARGV: maxRate, periodMs, member (unique; empty: only ask), force ("1": record anyway).
 * The request start times of the whole fleet, on Redis's clock: a sorted set scored in ms.
 * Returns the ms to wait before the next request may start (0: now): at most maxRate starts in
 * any periodMs. With a member, a request that may start now is recorded in the same step (two
 * holders never both get the last slot); one that must wait is not recorded.
 */
export const RATE = `#!lua flags=allow-oom
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local max = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - period))
local count = redis.call('ZCARD', KEYS[1])
local wait = 0
if count >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], count - max, count - max, 'WITHSCORES')
  wait = math.max(0, math.ceil(tonumber(oldest[2]) + period - now))
end
if ARGV[3] ~= '' and (wait == 0 or ARGV[4] == '1') then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(max + 1))
  redis.call('PEXPIRE', KEYS[1], math.ceil(period) + 1000)
  return 0
end
return wait
`;
