/**
 * Presence across instances on Redis (scripts: presence-scripts.ts). Each instance renews the
 * leases of its own entries every leaseMs/3, one script call per channel (pipelined); an instance
 * that dies stops renewing, and its entries are gone from every answer within leaseMs of their
 * last renewal. When its Redis connection comes back (a restart may have emptied Redis; on a
 * Cluster, a failover may have lost the latest writes of a shard) it writes all its entries back
 * and reports unhealthy until it has. A channel's four keys share its hash tag: one slot, one shard.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { Presence, PresenceEntry, PresenceListener, PresenceMember, PresencePage, PresenceStats } from '../../channels/presence.ts';
import { checkListLimit, decodeEntry, encodeEntry } from '../../channels/presence.ts';
import { StorageError } from '../../channels/storage-error.ts';
import { checkChannel } from '../../channels/stream.ts';
import type { OwnedClient, RedisSource } from './connect.ts';
import { clientFrom, closeRedis, describe, isReady } from './connect.ts';
import { channelKeys, checkedPrefix } from './keys.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { LuaScript } from './lua-script.ts';
import { JOIN, LEAVE, LIST, RENEW, STATS } from './presence-scripts.ts';

export type RedisPresenceOptions = RedisSource & {
  /** How long an entry outlives its instance's last renewal. Default 15 000 (renewed every 5 s). */
  readonly leaseMs?: number;
  /** Key prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
};

export const DEFAULT_PRESENCE_LEASE_MS = 15_000;
/** Entries per renewal call, so one huge channel does not make one huge command. */
const RENEW_CHUNK = 300;

const scripts = {
  join: new LuaScript(JOIN),
  renew: new LuaScript(RENEW),
  leave: new LuaScript(LEAVE),
  list: new LuaScript(LIST),
  stats: new LuaScript(STATS),
};

/** One of this instance's entries, as renewals send it. */
interface Held {
  readonly sub: string;
  readonly json: string;
}

export class RedisPresence implements Presence {
  readonly leaseMs: number;
  readonly #redis: OwnedClient;
  readonly #prefix: string;
  readonly #log: Logger;
  /** channel → connection id → entry: what the renewal loop keeps alive. */
  readonly #held = new Map<string, Map<string, Held>>();
  readonly #leases: LeaseKeeper;
  readonly #listeners: PresenceListener[] = [];
  #closed = false;

  constructor(options: RedisPresenceOptions) {
    this.#prefix = checkedPrefix(options.prefix);
    this.leaseMs = options.leaseMs ?? DEFAULT_PRESENCE_LEASE_MS;
    if (!(this.leaseMs >= 30)) throw new RangeError('leaseMs must be at least 30'); // renewed every leaseMs/3
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-presence' });
    this.#redis = clientFrom(options, 'hws-presence', options.logger);
    this.#leases = new LeaseKeeper({
      client: this.#redis.client,
      leaseMs: this.leaseMs,
      log: this.#log,
      renewals: () => this.#renewals(),
      restoredMessage: 'presence entries were missing in redis; written back',
    });
  }

  /** Connected, and this instance's entries are all in Redis. */
  get healthy(): boolean {
    return !this.#closed && isReady(this.#redis.client) && !this.#leases.stale;
  }

  async join(channel: string, entry: PresenceEntry): Promise<void> {
    this.#open();
    const json = encodeEntry(channel, entry);
    // Held before the command is sent: a leave() called meanwhile runs after it on the same connection.
    const held: Held = { sub: entry.sub, json };
    let entries = this.#held.get(channel);
    if (entries === undefined) this.#held.set(channel, (entries = new Map()));
    entries.set(entry.connectionId, held);
    this.#leases.start();
    try {
      this.#lapsed(channel, await this.#run('join', channel, [this.leaseMs, entry.connectionId, entry.sub, json]));
    } catch (error) {
      if (this.#held.get(channel)?.get(entry.connectionId) === held) this.#drop(channel, entry.connectionId);
      throw error;
    }
  }

  async leave(channel: string, connectionId: string): Promise<void> {
    if (!this.#drop(channel, connectionId) || this.#closed) return;
    try {
      await this.#run('leave', channel, [connectionId]);
    } catch (error) {
      // Never rejects: nobody renews the entry any more, so it lapses within leaseMs.
      this.#log.warn({ channel, err: describe(error) }, 'presence leave failed; the lease will lapse');
    }
  }

  async list(channel: string, limit: number): Promise<PresencePage> {
    this.#open();
    checkChannel(channel);
    checkListLimit(limit);
    const [total, raw, lapsed] = (await this.#run('list', channel, [limit])) as [number, (string | null)[], unknown];
    this.#lapsed(channel, lapsed);
    const entries: PresenceEntry[] = [];
    for (const json of raw) {
      const entry = json === null ? null : decodeEntry(json);
      if (entry !== null) entries.push(entry);
    }
    return { entries, total };
  }

  async stats(channel: string): Promise<PresenceStats> {
    this.#open();
    checkChannel(channel);
    const [connections, users, lapsed] = (await this.#run('stats', channel, [])) as [number, number, unknown];
    this.#lapsed(channel, lapsed);
    return { connections, users };
  }

  watch(listener: PresenceListener): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#leases.close();
    // Leave now rather than after leaseMs (best effort).
    if (this.#held.size > 0 && isReady(this.#redis.client)) {
      await Promise.all(
        [...this.#held].flatMap(([channel, entries]) =>
          [...entries.keys()].map((id) => this.#run('leave', channel, [id]).catch(() => undefined)),
        ),
      );
    }
    this.#held.clear();
    if (this.#redis.owned) await closeRedis(this.#redis.client);
  }

  #open(): void {
    if (this.#closed) throw new StorageError('unavailable', 'presence closed');
  }

  /** Forgets a held entry; true when it was held. */
  #drop(channel: string, connectionId: string): boolean {
    const entries = this.#held.get(channel);
    if (entries === undefined || !entries.delete(connectionId)) return false;
    if (entries.size === 0) this.#held.delete(channel);
    if (this.#held.size === 0) this.#leases.stop();
    return true;
  }

  async #run(script: keyof typeof scripts, channel: string, args: (string | number)[]): Promise<unknown> {
    const k = channelKeys(this.#prefix, channel);
    try {
      return await scripts[script].run(this.#redis.client, [k.presenceLeases, k.presenceEntries, k.presenceOwners, k.presenceUsers], args);
    } catch (error) {
      throw new StorageError('unavailable', 'presence: redis unavailable', { cause: error });
    }
  }

  /** One renewal round's script calls: every held entry, in chunks per channel. Each resolves to how many were written back. */
  #renewals(): Promise<number>[] {
    const calls: Promise<number>[] = [];
    for (const [channel, entries] of this.#held) {
      const all = [...entries];
      for (let i = 0; i < all.length; i += RENEW_CHUNK) {
        const args: (string | number)[] = [this.leaseMs];
        for (const [id, held] of all.slice(i, i + RENEW_CHUNK)) args.push(id, held.sub, held.json);
        calls.push(
          this.#run('renew', channel, args).then((answer) => {
            const [restoredIds, lapsed] = answer as [string[], unknown];
            this.#lapsed(channel, lapsed);
            this.#restored(channel, restoredIds);
            return restoredIds.length;
          }),
        );
      }
    }
    return calls;
  }

  /** A script's `lapsed` (connection id, sub, …) to the listeners. */
  #lapsed(channel: string, flat: unknown): void {
    if (!Array.isArray(flat) || flat.length === 0 || this.#listeners.length === 0) return;
    const members: PresenceMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      if (flat[i + 1] !== '') members.push({ connectionId: String(flat[i]), sub: String(flat[i + 1]) });
    for (const listener of this.#listeners) listener.lapsed(channel, members);
  }

  /** This instance's entries that a renewal wrote back (still held: they are ours and still subscribed). */
  #restored(channel: string, ids: readonly string[]): void {
    const held = this.#held.get(channel);
    if (ids.length === 0 || held === undefined || this.#listeners.length === 0) return;
    const members: PresenceMember[] = [];
    for (const id of ids) {
      const entry = held.get(id);
      if (entry !== undefined) members.push({ connectionId: id, sub: entry.sub });
    }
    if (members.length > 0) for (const listener of this.#listeners) listener.restored(channel, members);
  }
}
