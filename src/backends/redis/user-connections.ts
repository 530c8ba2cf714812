/**
 * The per-user connection cap across instances. Each user is a sorted set `<prefix>u:<sub>`:
 * member = connection id, score = lease expiry (ms, Redis server clock). Acquire is one Lua script
 * (drop lapsed leases, count, add) so two instances cannot both take the last slot. Each instance
 * renews its own live members every leaseMs/3; if it crashes, its entries lapse after leaseMs and
 * the user's slots come back without anyone cleaning up. When its Redis connection comes back (a
 * restart may have emptied Redis), it writes all its live members back at once, and reports
 * unhealthy (and holds new acquires) until it has: open sockets never stop counting.
 *
 * Times come from Redis `TIME` inside the scripts, not from each instance's clock, so instances
 * with skewed clocks still agree on which leases have lapsed.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient, Redis, RedisSource } from './connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, describe, isReady, unavailable } from './connect.ts';
import type { UserConnections } from '../../core/user-connections.ts';

export type RedisUserConnectionsOptions = RedisSource & {
  /** How long an entry outlives its last renewal (an instance crash frees slots after this). Default 60 000. */
  readonly leaseMs?: number;
  /** Key prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
};

export const DEFAULT_LEASE_MS = 60_000;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] user key; ARGV: connectionId, max, leaseMs. 1 = acquired (or already held), 0 = cap reached. */
const ACQUIRE = `${NOW}
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease)
  return 1
end
return 0`;

/**
 * KEYS[1] user key; ARGV: leaseMs, connectionId... Writes every live connection of this instance
 * with a fresh expiry. A member that is missing (Redis restarted empty, or its lease lapsed during
 * a long outage) is added back: the socket is still open and must count, even if that puts the
 * user over the cap for a while (new sockets are refused until it is under again). Returns how
 * many were missing.
 */
const RENEW = `${NOW}
local lease = tonumber(ARGV[1])
local restored = 0
for i = 2, #ARGV do
  restored = restored + redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], lease)
return restored`;

export class RedisUserConnections implements UserConnections {
  readonly #redis: OwnedClient;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #log: Logger;
  /** This instance's live entries, the ones the renewal loop keeps alive. */
  readonly #local = new Map<string, Set<string>>();
  readonly #acquireSha: Promise<string>;
  #renewSha: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Set when the connection dropped; cleared by the first renewal round that succeeds after it. */
  #stale = false;
  /** The re-registration round started by the reconnect; acquires wait for it. */
  #reregistering: Promise<void> | undefined;
  readonly #onClose = () => {
    this.#stale = true;
  };
  readonly #onReady = () => {
    if (this.#stale) this.#reregistering = this.#renew().finally(() => (this.#reregistering = undefined));
  };

  constructor(options: RedisUserConnectionsOptions) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-user-connections' });
    this.#redis = clientFrom(options, 'hws-users', options.logger);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}u:`;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.#leaseMs >= 30)) throw new RangeError('leaseMs must be at least 30'); // renewal runs every leaseMs/3
    this.#acquireSha = sha1Hex(ACQUIRE);
    this.#redis.client.on('close', this.#onClose);
    this.#redis.client.on('ready', this.#onReady);
  }

  /** Connected, and this instance's live connections are all counted in Redis. */
  get healthy(): boolean {
    return isReady(this.#redis.client) && !this.#stale;
  }

  async acquire(sub: string, connectionId: string, max: number): Promise<boolean> {
    if (this.#closed) throw unavailable('user connections', new Error('closed'));
    // Right after a reconnect, this instance's own sockets must be back in the count before it admits more.
    if (this.#reregistering !== undefined) await this.#reregistering;
    let acquired: unknown;
    try {
      acquired = await this.#evalAcquire(this.#prefix + sub, [connectionId, String(max), String(this.#leaseMs)]);
    } catch (error) {
      throw unavailable('user connections', error);
    }
    if (acquired !== 1) return false;
    let ids = this.#local.get(sub);
    if (ids === undefined) this.#local.set(sub, (ids = new Set()));
    ids.add(connectionId);
    this.#startRenewing();
    return true;
  }

  async release(sub: string, connectionId: string): Promise<void> {
    const ids = this.#local.get(sub);
    ids?.delete(connectionId);
    if (ids?.size === 0) this.#local.delete(sub);
    if (this.#local.size === 0) this.#stopRenewing();
    if (this.#closed) return;
    try {
      await this.#redis.client.zrem(this.#prefix + sub, connectionId);
    } catch (error) {
      // Never rejects: the entry lapses by itself after leaseMs since nobody renews it any more.
      this.#log.warn({ err: describe(error) }, 'release failed; the lease will lapse');
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopRenewing();
    this.#redis.client.off('close', this.#onClose);
    this.#redis.client.off('ready', this.#onReady);
    // Free this instance's slots now rather than after leaseMs (best effort).
    if (this.#local.size > 0 && isReady(this.#redis.client)) {
      const pipeline = this.#redis.client.pipeline();
      for (const [sub, ids] of this.#local) pipeline.zrem(this.#prefix + sub, ...ids);
      await pipeline.exec().catch(() => undefined);
    }
    this.#local.clear();
    if (this.#redis.owned) await closeRedis(this.#redis.client);
  }

  /** EVALSHA, falling back to EVAL when Redis lost its script cache (e.g. after a restart). */
  async #evalAcquire(key: string, args: string[]): Promise<unknown> {
    const client: Redis = this.#redis.client;
    try {
      return await client.evalsha(await this.#acquireSha, 1, key, ...args);
    } catch (error) {
      if (!describe(error).includes('NOSCRIPT')) throw error;
      return await client.eval(ACQUIRE, 1, key, ...args);
    }
  }

  #startRenewing(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.#renew(), Math.floor(this.#leaseMs / 3));
  }

  #stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One pipeline per round: SCRIPT LOAD first (so EVALSHA cannot miss after a restart), then one
   * EVALSHA per user. Runs every leaseMs/3 and at once after a reconnect; a round that succeeds
   * clears `stale`.
   */
  async #renew(): Promise<void> {
    const client = this.#redis.client;
    if (!isReady(client)) return;
    if (this.#local.size === 0) {
      this.#stale = false;
      return;
    }
    const pipeline = client.pipeline();
    pipeline.script('LOAD', RENEW);
    this.#renewSha ??= await sha1Hex(RENEW);
    for (const [sub, ids] of this.#local) pipeline.evalsha(this.#renewSha, 1, this.#prefix + sub, String(this.#leaseMs), ...ids);
    try {
      const results = (await pipeline.exec()) ?? [];
      let restored = 0;
      for (const [error, value] of results) {
        if (error) throw error;
        if (typeof value === 'number') restored += value;
      }
      this.#stale = false;
      // Redis lost them (a restart, or renewals late by more than the lease): they count again from now.
      if (restored > 0) this.#log.warn({ restored }, 'connection leases were missing in redis; written back');
    } catch (error) {
      this.#log.warn({ err: describe(error) }, 'lease renewal failed; retrying next round');
    }
  }
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
