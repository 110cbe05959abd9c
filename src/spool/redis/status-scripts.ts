/**
 * What `events-forward status` reads of a Redis spool beyond the outbox and the lease: the
 * publisher's last request, last failure and holding state, in a hash `{key}:delivery` (same
 * hash tag as the spool's other keys). Times are Redis's clock, in ms.
 */

export function deliveryKey(key: string): string {
  return `{${key}}:delivery`;
}

/**
 * KEYS: delivery. ARGV: what ("sent", "failed", "holding", "released"), text, since.
 * "sent"/"failed": a request ended (text: its outcome); "holding": the publisher holds a batch
 * (text: answer, a tab, the reason; since: when it began); "released": it holds none any more.
 */
export const NOTE_DELIVERY = `#!lua flags=allow-oom
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == 'sent' or ARGV[1] == 'failed' then
  redis.call('HSET', KEYS[1], 'lastAt', now, 'lastOutcome', ARGV[2])
  if ARGV[1] == 'failed' then redis.call('HSET', KEYS[1], 'failureAt', now, 'failure', ARGV[2]) end
elseif ARGV[1] == 'holding' then
  redis.call('HSET', KEYS[1], 'holding', ARGV[2], 'holdingSince', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'holding', 'holdingSince')
end
return 1
`;

/**
 * KEYS: events, lease, rate, delivery, epoch. ARGV: periodMs.
 * One consistent look: { events waiting, the oldest (or false), the lease's value (or false),
 * its ms left, requests started in the last periodMs, Redis's time, whether the spool has a
 * history (1: some process used it), the delivery hash flat }.
 */
export const INSPECT = `#!lua flags=allow-oom,no-writes
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local starts = redis.call('ZCOUNT', KEYS[3], '(' .. (now - tonumber(ARGV[1])), '+inf')
local reply = {
  redis.call('LLEN', KEYS[1]),
  redis.call('LINDEX', KEYS[1], 0),
  redis.call('GET', KEYS[2]),
  redis.call('PTTL', KEYS[2]),
  starts,
  now,
  redis.call('EXISTS', KEYS[5]),
}
for _, value in ipairs(redis.call('HGETALL', KEYS[4])) do reply[#reply + 1] = value end
return reply
`;
