/**
 * The Redis stream's Lua scripts and the text forms they read and write. A script runs atomically
 * on the Redis server: no other command sees a state between its steps.
 *
 * APPEND guarantees:
 * - the offset is the channel's latest + 1, under the channel's epoch; concurrent appends from any
 *   number of instances get distinct, consecutive offsets (scripts run one at a time);
 * - the notification is PUBLISHed last, after XADD and the position update succeeded: a script
 *   that fails (wrong key type, OOM refusal of the first write) stops before it, so nothing is
 *   ever notified that was not stored; the reply (offset, epoch) likewise only follows storage;
 * - a missing position (new channel, Redis restarted without persistence, flushed, evicted, or the
 *   position expired) starts a new epoch given by the caller at offset 1, and deletes whatever is
 *   left under the stream key: publications of a lost epoch are never served under a new one.
 */

/**
 * On a Redis Cluster (Redis ≥ 7) the scripts differ in three ways:
 * - notifications go out with SPUBLISH on the channel's own shard (the notify channel shares the
 *   stream's hash tag, so the `#!lua` slot check of lua-script.ts covers it too);
 * - the position hash also records which master wrote it (`w`, CLUSTER MYID);
 * - an append finding the channel last written by another master that is not a healthy master now
 *   (its replica was promoted after a failure, or it left) starts a new epoch as if the position
 *   were missing. Replication is asynchronous: the promoted replica holds a prefix of what the old
 *   master acknowledged and may hand out offsets that instances already delivered, with other
 *   publications. A healthy former writer means the slot was migrated (MIGRATE copies every key):
 *   nothing was lost, the new master takes over the epoch.
 */
const LINEAGE = `
local me = redis.call('CLUSTER', 'MYID')
local function lineage_broken(writer)
  if writer == me then
    return false
  end
  if not writer then
    return true
  end
  for line in string.gmatch(redis.call('CLUSTER', 'NODES'), '[^\\n]+') do
    local id, _, flags = string.match(line, '^(%S+) (%S+) (%S+)')
    if id == writer then
      local healthy = string.find(flags, 'master', 1, true) and not string.find(flags, 'fail', 1, true)
        and not string.find(flags, 'noaddr', 1, true) and not string.find(flags, 'handshake', 1, true)
      return not healthy
    end
  end
  return true
end`;

const modes = {
  single: { publish: 'PUBLISH', prelude: '', fields: "'e', 's'", broken: '', writer: '' },
  cluster: { publish: 'SPUBLISH', prelude: LINEAGE, fields: "'e', 's', 'w'", broken: ' or lineage_broken(meta[3])', writer: ", 'w', me" },
} as const;
type Mode = keyof typeof modes;

/**
 * KEYS: stream, meta [, idempotency key]. ARGV: body, size, ttlMs, metaTtlMs, newEpoch,
 * notifyChannel [, keyTtlMs]. Returns {offset, epoch}. With an idempotency key that is already
 * set, nothing is stored or notified and the first publish's {offset, epoch} is returned.
 */
export const append = (mode: Mode): string => {
  const m = modes[mode];
  return `${m.prelude}
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local colon = string.find(seen, ':', 1, true)
    return {tonumber(string.sub(seen, 1, colon - 1)), string.sub(seen, colon + 1)}
  end
end
local meta = redis.call('HMGET', KEYS[2], ${m.fields})
local epoch = meta[1]
local top = tonumber(meta[2]) or 0
if not epoch${m.broken} then
  epoch = ARGV[5]
  top = 0
  redis.call('DEL', KEYS[1])
end
local offset = top + 1
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], string.format('%d-0', offset), 'p', ARGV[1])
redis.call('HSET', KEYS[2], 'e', epoch, 's', offset${m.writer})
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('${m.publish}', ARGV[6], string.format('%d', offset) .. ':' .. epoch .. ':' .. ARGV[1])
if KEYS[3] then
  redis.call('SET', KEYS[3], string.format('%d', offset) .. ':' .. epoch, 'PX', ARGV[7])
end
return {offset, epoch}`;
};

/** KEYS: idempotency key. ARGV: keyTtlMs, notifyChannel, notification. A live-only publish, once per key. */
export const publishOnce = (mode: Mode): string => `
if redis.call('SET', KEYS[1], '', 'NX', 'PX', ARGV[1]) then
  redis.call('${modes[mode].publish}', ARGV[2], ARGV[3])
end
return 1`;

/**
 * KEYS: stream, meta. ARGV: epoch, newEpoch, metaTtlMs. If the channel is still at that epoch (or
 * has none), a new epoch starts at offset 0 and the stored publications go. Returns {offset, epoch} after.
 */
export const abandon = (mode: Mode): string => {
  const m = modes[mode];
  return `${m.prelude}
local meta = redis.call('HMGET', KEYS[2], 'e', 's')
if not meta[1] or meta[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', ARGV[2], 's', 0${m.writer})
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {0, ARGV[2]}
end
return {tonumber(meta[2]) or 0, meta[1]}`;
};

/**
 * KEYS: stream, meta. ARGV: after, limit, size, metaTtlMs, newEpoch, wantedEpoch ('' = any).
 * Returns {latest offset, epoch, epochMatches 0|1, reachesBack 0|1, XRANGE entries}. Creates the
 * epoch when the channel has none (so a subscriber's position stays valid for later publications)
 * and extends the position's lifetime. The oldest readable offset is never more than `size` back,
 * though `MAXLEN ~` may keep a few more: both backends answer alike. A read never starts a new
 * epoch for a changed writer (Cluster): what a promoted replica holds is a prefix of what was
 * acknowledged, so every offset it serves is the publication everyone saw there.
 */
export const read = (mode: Mode): string => {
  const m = modes[mode];
  return `${m.prelude}
local meta = redis.call('HMGET', KEYS[2], 'e', 's')
local epoch = meta[1]
local top = tonumber(meta[2]) or 0
if not epoch then
  epoch = ARGV[5]
  top = 0
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0${m.writer})
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if ARGV[6] ~= '' and ARGV[6] ~= epoch then
  return {top, epoch, 0, 0, {}}
end
local after = tonumber(ARGV[1])
if after > top then
  return {top, epoch, 1, 0, {}}
end
local oldest = top + 1
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first then
  oldest = tonumber(string.match(first[1], '^(%d+)'))
end
local floor = top - tonumber(ARGV[3]) + 1
if floor > oldest then
  oldest = floor
end
local reaches = 0
if after + 1 >= oldest then
  reaches = 1
end
local from = after + 1
if from < oldest then
  from = oldest
end
local limit = tonumber(ARGV[2])
local entries = {}
if limit > 0 and from <= top then
  entries = redis.call('XRANGE', KEYS[1], string.format('%d', from), '+', 'COUNT', limit)
end
return {top, epoch, 1, reaches, entries}`;
};

/** A stored body `{"from","data"}` back to its parts; null for anything this backend did not write. */
export function decodeBody(body: string): { from: string; data: unknown } | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  return typeof v.from === 'string' ? { from: v.from, data: 'data' in v ? v.data : null } : null;
}

/** A notification `offset:epoch:body` (offset and epoch empty for live-only publications). */
export function decodeNotification(
  payload: string,
): { offset: number; epoch: string; body: string } | { offset: null; epoch: null; body: string } | null {
  const one = payload.indexOf(':');
  const two = one === -1 ? -1 : payload.indexOf(':', one + 1);
  if (two === -1) return null;
  const body = payload.slice(two + 1);
  if (one === 0 && two === 1) return { offset: null, epoch: null, body };
  const offset = Number(payload.slice(0, one));
  const epoch = payload.slice(one + 1, two);
  if (!Number.isSafeInteger(offset) || offset < 1 || epoch === '') return null;
  return { offset, epoch, body };
}

export const liveNotification = (body: string): string => `::${body}`;
