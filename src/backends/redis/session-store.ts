/**
 * Login sessions in Redis (`<prefix>s:<sid>`, expiring with the session), so a logout on one
 * instance is seen by all. `get` also checks `exp` itself: Redis expiry is lazy-ish and clocks differ.
 * `extend` is one Lua script (read, cap at maxExp, never move back, write with the new TTL), so two
 * instances extending the same session at once cannot leave it ending earlier than either promised.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient } from './connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, isReady, unavailable } from './connect.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisStoreOptions } from './ticket-store.ts';
import type { SessionRecord, SessionStore } from '../../auth-service/session-store.ts';

/**
 * KEYS[1] session key; ARGV: wanted exp, now (ms, this instance's clock, as for put). Returns the
 * record's JSON after the extension, or false when the session is unknown, unreadable or over.
 * cjson writes numbers with 14 significant digits: epoch milliseconds (13) survive exactly.
 */
const EXTEND = new LuaScript(`local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' or type(rec.exp) ~= 'number' then return false end
local now = tonumber(ARGV[2])
if rec.exp <= now then return false end
local cap = rec.exp
if type(rec.maxExp) == 'number' then cap = rec.maxExp end
local want = math.min(tonumber(ARGV[1]), cap)
if want > rec.exp then
  rec.exp = want
  raw = cjson.encode(rec)
  redis.call('SET', KEYS[1], raw, 'PX', math.ceil(want - now))
end
return raw`);

export class RedisSessionStore implements SessionStore {
  readonly #redis: OwnedClient;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(options: RedisStoreOptions) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-session-store' });
    this.#redis = clientFrom(options, 'hws-sessions', options.logger);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}s:`;
    this.#now = options.now ?? Date.now;
  }

  get healthy(): boolean {
    return isReady(this.#redis.client);
  }

  async put(sid: string, record: SessionRecord): Promise<void> {
    const ttl = Math.ceil(record.exp - this.#now());
    if (ttl <= 0) return;
    try {
      await this.#redis.client.set(
        this.#prefix + sid,
        JSON.stringify({ sub: record.sub, exp: record.exp, ...(record.maxExp === undefined ? {} : { maxExp: record.maxExp }) }),
        'PX',
        ttl,
      );
    } catch (error) {
      throw unavailable('session store', error);
    }
  }

  async get(sid: string): Promise<SessionRecord | null> {
    let raw: string | null;
    try {
      raw = await this.#redis.client.get(this.#prefix + sid);
    } catch (error) {
      throw unavailable('session store', error);
    }
    if (raw === null) return null;
    const record = parseSession(raw);
    if (record === null) {
      this.#log.warn({}, 'malformed session record ignored');
      return null;
    }
    return record.exp > this.#now() ? record : null;
  }

  async extend(sid: string, exp: number): Promise<SessionRecord | null> {
    const key = this.#prefix + sid;
    const args = [String(exp), String(this.#now())];
    let raw: unknown;
    try {
      raw = await EXTEND.run(this.#redis.client, [key], args);
    } catch (error) {
      throw unavailable('session store', error);
    }
    if (typeof raw !== 'string') return null;
    const record = parseSession(raw);
    if (record === null) this.#log.warn({}, 'malformed session record ignored');
    return record;
  }

  async delete(sid: string): Promise<void> {
    try {
      await this.#redis.client.del(this.#prefix + sid);
    } catch (error) {
      throw unavailable('session store', error);
    }
  }

  async close(): Promise<void> {
    if (this.#redis.owned) await closeRedis(this.#redis.client);
  }
}

function parseSession(raw: string): SessionRecord | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return null;
    const { sub, exp, maxExp } = value as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof exp !== 'number') return null;
    return typeof maxExp === 'number' ? { sub, exp, maxExp } : { sub, exp };
  } catch {
    return null;
  }
}
