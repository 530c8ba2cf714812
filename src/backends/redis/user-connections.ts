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
 * with skewed clocks still agree on which leases have lapsed. On a Redis Cluster each user is one
 * key, so one slot: the scripts stay atomic with no hash tag, and users spread over the shards.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient, RedisSource } from './connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, describe, isReady, unavailable } from './connect.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { LuaScript } from './lua-script.ts';
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
const ACQUIRE = new LuaScript(`${NOW}
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease)
  return 1
end
return 0`);

/**
 * KEYS[1] user key; ARGV: leaseMs, connectionId... Writes every live connection of this instance
 * with a fresh expiry. A member that is missing (Redis restarted empty, a failover lost it, or its
 * lease lapsed during a long outage) is added back: the socket is still open and must count, even
 * if that puts the user over the cap for a while (new sockets are refused until it is under
 * again). Returns how many were missing.
 */
const RENEW = new LuaScript(`${NOW}
local lease = tonumber(ARGV[1])
local restored = 0
for i = 2, #ARGV do
  restored = restored + redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], lease)
return restored`);

export class RedisUserConnections implements UserConnections {
  readonly #redis: OwnedClient;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #log: Logger;
  /** This instance's live entries, the ones the renewal loop keeps alive. */
  readonly #local = new Map<string, Set<string>>();
  readonly #leases: LeaseKeeper;
  #closed = false;

  constructor(options: RedisUserConnectionsOptions) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-user-connections' });
    this.#redis = clientFrom(options, 'hws-users', options.logger);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}u:`;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.#leaseMs >= 30)) throw new RangeError('leaseMs must be at least 30'); // renewal runs every leaseMs/3
    const lease = String(this.#leaseMs);
    this.#leases = new LeaseKeeper({
      client: this.#redis.client,
      leaseMs: this.#leaseMs,
      log: this.#log,
      // One script call per user: each user's key may live on another shard of a Cluster.
      renewals: () => [...this.#local].map(([sub, ids]) => RENEW.run(this.#redis.client, [this.#prefix + sub], [lease, ...ids])),
      restoredMessage: 'connection leases were missing in redis; written back',
    });
  }

  /** Connected, and this instance's live connections are all counted in Redis. */
  get healthy(): boolean {
    return isReady(this.#redis.client) && !this.#leases.stale;
  }

  async acquire(sub: string, connectionId: string, max: number): Promise<boolean> {
    if (this.#closed) throw unavailable('user connections', new Error('closed'));
    // Right after a reconnect, this instance's own sockets must be back in the count before it admits more.
    const reconnectRound = this.#leases.afterReconnect;
    if (reconnectRound !== undefined) await reconnectRound;
    let acquired: unknown;
    try {
      acquired = await ACQUIRE.run(this.#redis.client, [this.#prefix + sub], [connectionId, String(max), String(this.#leaseMs)]);
    } catch (error) {
      throw unavailable('user connections', error);
    }
    if (acquired !== 1) return false;
    let ids = this.#local.get(sub);
    if (ids === undefined) this.#local.set(sub, (ids = new Set()));
    ids.add(connectionId);
    this.#leases.start();
    return true;
  }

  async release(sub: string, connectionId: string): Promise<void> {
    const ids = this.#local.get(sub);
    ids?.delete(connectionId);
    if (ids?.size === 0) this.#local.delete(sub);
    if (this.#local.size === 0) this.#leases.stop();
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
    this.#leases.close();
    // Free this instance's slots now rather than after leaseMs (best effort; one command per user, as each may live on another shard).
    if (this.#local.size > 0 && isReady(this.#redis.client)) {
      const client = this.#redis.client;
      await Promise.allSettled([...this.#local].map(([sub, ids]) => client.zrem(this.#prefix + sub, ...ids)));
    }
    this.#local.clear();
    if (this.#redis.owned) await closeRedis(this.#redis.client);
  }
}
