/**
 * The per-user connection cap across instances. Each user is a sorted set `<prefix>u:<sub>`:
 * member = connection id, score = lease expiry (ms, Redis server clock). Acquire is one Lua script
 * (drop lapsed leases, count, add) so two instances cannot both take the last slot. Each instance
 * renews its own live members every leaseMs/3; if it crashes, its entries lapse after leaseMs and
 * the user's slots come back without anyone cleaning up.
 *
 * Times come from Redis `TIME` inside the scripts, not from each instance's clock, so instances
 * with skewed clocks still agree on which leases have lapsed.
 */
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import type { OwnedClient, Redis, RedisSource } from '../redis/connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, describe, isReady, unavailable } from '../redis/connect.ts';
import type { UserConnections } from './user-connections.ts';

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
 * KEYS[1] user key; ARGV: leaseMs, connectionId... Re-scores members that still exist (a lapsed one is
 * not resurrected: its slot may already be someone else's). Returns how many had lapsed.
 */
const RENEW = `${NOW}
local lease = tonumber(ARGV[1])
local lapsed = 0
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[i]) == 0 and not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    lapsed = lapsed + 1
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], lease) end
return lapsed`;

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

  constructor(options: RedisUserConnectionsOptions) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-user-connections' });
    this.#redis = clientFrom(options, 'hws-users', options.logger);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}u:`;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.#leaseMs >= 30)) throw new RangeError('leaseMs must be at least 30'); // renewal runs every leaseMs/3
    this.#acquireSha = sha1Hex(ACQUIRE);
  }

  get healthy(): boolean {
    return isReady(this.#redis.client);
  }

  async acquire(sub: string, connectionId: string, max: number): Promise<boolean> {
    if (this.#closed) throw unavailable('user connections', new Error('closed'));
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

  /** One pipeline per round: SCRIPT LOAD first (so EVALSHA cannot miss after a restart), then one EVALSHA per user. */
  async #renew(): Promise<void> {
    const client = this.#redis.client;
    if (this.#local.size === 0 || !isReady(client)) return;
    const pipeline = client.pipeline();
    pipeline.script('LOAD', RENEW);
    this.#renewSha ??= await sha1Hex(RENEW);
    for (const [sub, ids] of this.#local) pipeline.evalsha(this.#renewSha, 1, this.#prefix + sub, String(this.#leaseMs), ...ids);
    try {
      const results = (await pipeline.exec()) ?? [];
      let lapsed = 0;
      for (const [error, value] of results) {
        if (error) throw error;
        if (typeof value === 'number') lapsed += value;
      }
      // Renewals ran late (Redis was away longer than the lease): those sockets no longer count against the cap.
      if (lapsed > 0) this.#log.warn({ lapsed }, 'connection leases lapsed before renewal');
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
