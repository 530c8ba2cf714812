/**
 * The Redis presence's Lua scripts. Per channel (one hash tag): KEYS[1] sorted set connection id →
 * lease expiry, KEYS[2] hash connection id → entry JSON, KEYS[3] hash connection id → sub, KEYS[4]
 * hash sub → its number of entries (HLEN = distinct users). Every script first drops the entries
 * whose lease has lapsed, by the Redis server's clock (TIME), so instances with skewed clocks agree
 * and nothing needs a sweeper: a dead instance's entries are gone from the first answer after
 * their lease. The scripts that prune return what they dropped (`lapsed`: connection id, sub, …)
 * so that the instance which dropped an entry, and only it, announces its `leave`. Each key's expiry is pushed to at least one lease ahead on every write, so an
 * abandoned channel's keys vanish too.
 */

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function uncount(sub)
  if redis.call('HINCRBY', KEYS[4], sub, -1) <= 0 then
    redis.call('HDEL', KEYS[4], sub)
  end
end
local lapsed = {}
local function prune()
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for i = 1, #gone do
    local sub = redis.call('HGET', KEYS[3], gone[i])
    redis.call('HDEL', KEYS[2], gone[i])
    redis.call('HDEL', KEYS[3], gone[i])
    if sub then
      uncount(sub)
    end
    lapsed[#lapsed + 1] = gone[i]
    lapsed[#lapsed + 1] = sub or ''
  end
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  end
end
local function put(lease, conn, sub, json)
  local prev = redis.call('HGET', KEYS[3], conn)
  if prev ~= sub then
    if prev then
      uncount(prev)
    end
    redis.call('HSET', KEYS[3], conn, sub)
    redis.call('HINCRBY', KEYS[4], sub, 1)
  end
  redis.call('HSET', KEYS[2], conn, json)
  redis.call('ZADD', KEYS[1], now + lease, conn)
  return prev
end
local function extend(lease)
  for i = 1, 4 do
    if redis.call('PTTL', KEYS[i]) < lease then
      redis.call('PEXPIRE', KEYS[i], lease)
    end
  end
end
`;

/** ARGV: leaseMs, connectionId, sub, entryJson. Returns lapsed. */
export const JOIN = `${PRELUDE}
local lease = tonumber(ARGV[1])
prune()
put(lease, ARGV[2], ARGV[3], ARGV[4])
extend(lease)
return lapsed`;

/**
 * ARGV: leaseMs, then (connectionId, sub, entryJson) triples: this instance's live entries of the
 * channel, with a fresh lease. An entry that is missing (Redis restarted empty, or renewals were
 * late by more than the lease) is written back. Returns {restored connection ids, lapsed}.
 */
export const RENEW = `${PRELUDE}
local lease = tonumber(ARGV[1])
prune()
local restored = {}
for i = 2, #ARGV, 3 do
  if not put(lease, ARGV[i], ARGV[i + 1], ARGV[i + 2]) then
    restored[#restored + 1] = ARGV[i]
  end
end
extend(lease)
return {restored, lapsed}`;

/** ARGV: connectionId. Returns 1 when it was there. */
export const LEAVE = `${PRELUDE}
local sub = redis.call('HGET', KEYS[3], ARGV[1])
if not sub then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
uncount(sub)
return 1`;

/** ARGV: limit (≥ 1). Returns {total, {entryJson...}, lapsed}. */
export const LIST = `${PRELUDE}
prune()
local total = redis.call('ZCARD', KEYS[1])
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local entries = {}
if #ids > 0 then
  entries = redis.call('HMGET', KEYS[2], unpack(ids))
end
return {total, entries, lapsed}`;

/** Returns {connections, users, lapsed}. */
export const STATS = `${PRELUDE}
prune()
return {redis.call('ZCARD', KEYS[1]), redis.call('HLEN', KEYS[4]), lapsed}`;
