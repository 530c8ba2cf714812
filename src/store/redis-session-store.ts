/**
 * Login sessions in Redis (`<prefix>s:<sid>`, expiring with the session), so a logout on one
 * instance is seen by all. `get` also checks `exp` itself: Redis expiry is lazy-ish and clocks differ.
 */
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import type { OwnedClient } from '../redis/connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, isReady, unavailable } from '../redis/connect.ts';
import type { RedisStoreOptions } from './redis-ticket-store.ts';
import type { SessionRecord, SessionStore } from './session-store.ts';

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
      await this.#redis.client.set(this.#prefix + sid, JSON.stringify({ sub: record.sub, exp: record.exp }), 'PX', ttl);
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
    const { sub, exp } = value as Record<string, unknown>;
    return typeof sub === 'string' && typeof exp === 'number' ? { sub, exp } : null;
  } catch {
    return null;
  }
}
