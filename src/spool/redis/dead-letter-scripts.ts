/**
 * The Redis spool's dead letters: the events the forwarder gave up on, kept beside the outbox
 * under the same hash tag (one Redis Cluster slot), bounded, for `events-forward dead-letters`.
 *
 * - `{key}:dead`: a hash, id → the dead letter as JSON ({ json, reason, status, answer, at, attempts });
 * - `{key}:dead:ids`: the ids in the order they were kept (a sorted set scored by id): the oldest go first;
 * - `{key}:dead:next`: the last id given;
 * - `{key}:dead:reasons` and `{key}:dead:reason:<reason>`: the reasons in use, and the ids of each,
 *   so that `status` counts them without reading every dead letter.
 */

export interface DeadLetterKeys {
  readonly dead: string;
  readonly ids: string;
  readonly next: string;
  readonly reasons: string;
  /** Prefix of the per-reason sets: the scripts add the reason (the hash tag stays the same). */
  readonly reasonPrefix: string;
}

export function deadLetterKeys(key: string): DeadLetterKeys {
  const tag = `{${key}}`;
  return {
    dead: `${tag}:dead`,
    ids: `${tag}:dead:ids`,
    next: `${tag}:dead:next`,
    reasons: `${tag}:dead:reasons`,
    reasonPrefix: `${tag}:dead:reason:`,
  };
}

/** Lua shared by the scripts that remove dead letters: one id out of every structure. */
const FORGET = `
local function forget(id, record)
  local reason = cjson.decode(record).reason
  local byReason = KEYS_REASON_PREFIX .. reason
  redis.call('HDEL', KEYS_DEAD, id)
  redis.call('ZREM', KEYS_IDS, id)
  redis.call('ZREM', byReason, id)
  if redis.call('EXISTS', byReason) == 0 then redis.call('SREM', KEYS_REASONS, reason) end
end
`;

/**
 * KEYS: events, base, epoch, dead, ids, next, reasons.
 * ARGV: epoch, from, through, reason, status, answer, attempts, max, reasonPrefix.
 * Moves the events from sequence number `from` through `through` (a batch the forwarder gave up
 * on) from the outbox into the dead letters, and removes the outbox's front through `through`
 * (the batch, and what was delivered before it), in one step: a crash never leaves an event in
 * both or in neither. Events already gone (another process settled them) are not kept twice; in
 * another epoch nothing is done (that history is gone). Past `max` dead letters, the oldest go.
 * Returns { events kept (-1: another epoch), dead letters evicted }.
 */
export const KEEP_DEAD = `#!lua flags=allow-oom
local KEYS_DEAD, KEYS_IDS, KEYS_REASONS, KEYS_REASON_PREFIX = KEYS[4], KEYS[5], KEYS[7], ARGV[9]
${FORGET}
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return { -1, 0 } end
local base = tonumber(redis.call('GET', KEYS[2]) or '0')
local len = redis.call('LLEN', KEYS[1])
local through = tonumber(ARGV[3])
local first = math.max(tonumber(ARGV[2]), base)
local last = math.min(through, base + len - 1)
local kept = 0
if last >= first then
  local t = redis.call('TIME')
  local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local status = tonumber(ARGV[5])
  local items = redis.call('LRANGE', KEYS[1], first - base, last - base)
  for i = 1, #items do
    local id = redis.call('INCR', KEYS[6])
    local record = { json = items[i], reason = ARGV[4], answer = ARGV[6], at = at, attempts = tonumber(ARGV[7]) }
    if status then record.status = status end
    redis.call('HSET', KEYS[4], id, cjson.encode(record))
    redis.call('ZADD', KEYS[5], id, id)
    redis.call('ZADD', ARGV[9] .. ARGV[4], id, id)
  end
  redis.call('SADD', KEYS[7], ARGV[4])
  kept = #items
end
local n = math.min(through - base + 1, len)
if n > 0 then
  redis.call('LTRIM', KEYS[1], n, -1)
  redis.call('INCRBY', KEYS[2], n)
end
local evicted = 0
local over = redis.call('ZCARD', KEYS[5]) - tonumber(ARGV[8])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, over - 1)) do
    forget(id, redis.call('HGET', KEYS[4], id))
    evicted = evicted + 1
  end
end
return { kept, evicted }
`;

/**
 * KEYS: dead, ids. ARGV: after (an id), count.
 * Up to `count` dead letters with ids after `after`, oldest first: { id, record, id, record, ... }.
 */
export const LIST_DEAD = `#!lua flags=allow-oom,no-writes
local reply = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
for i, id in ipairs(ids) do
  reply[2 * i - 1] = id
  reply[2 * i] = redis.call('HGET', KEYS[1], id) or ''
end
return reply
`;

/**
 * KEYS: dead, reasons. ARGV: reasonPrefix.
 * Per reason: { reason, count, oldest at, newest at, the newest's answer, ... }.
 */
export const COUNT_DEAD = `#!lua flags=allow-oom,no-writes
local reply = {}
for _, reason in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local ids = ARGV[1] .. reason
  local count = redis.call('ZCARD', ids)
  if count > 0 then
    local oldest = cjson.decode(redis.call('HGET', KEYS[1], redis.call('ZRANGE', ids, 0, 0)[1]))
    local newest = cjson.decode(redis.call('HGET', KEYS[1], redis.call('ZRANGE', ids, -1, -1)[1]))
    for _, value in ipairs({ reason, count, oldest.at, newest.at, newest.answer }) do reply[#reply + 1] = value end
  end
end
return reply
`;

/**
 * KEYS: events, dead, ids, reasons. ARGV: action ("replay" or "purge"), reasonPrefix, id...
 * Removes these dead letters; "replay" appends their texts to the outbox first (same text, same
 * row ids), in the same step. Ids no longer there are skipped. Returns how many it removed.
 */
export const REMOVE_DEAD = `#!lua flags=allow-oom
local KEYS_DEAD, KEYS_IDS, KEYS_REASONS, KEYS_REASON_PREFIX = KEYS[2], KEYS[3], KEYS[4], ARGV[2]
${FORGET}
local removed = 0
for i = 3, #ARGV do
  local record = redis.call('HGET', KEYS[2], ARGV[i])
  if record then
    if ARGV[1] == 'replay' then redis.call('RPUSH', KEYS[1], cjson.decode(record).json) end
    forget(ARGV[i], record)
    removed = removed + 1
  end
end
return removed
`;
