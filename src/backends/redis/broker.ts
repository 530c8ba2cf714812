/**
 * Pub/sub across instances over Redis. Two connections: PUBLISH goes on a command connection, and a
 * dedicated subscriber connection carries SUBSCRIBEs and deliveries (so a burst of deliveries never
 * delays a publish). Each broker channel is one Redis channel `<prefix>ch:<channel>`, SUBSCRIBEd
 * while at least one local listener wants it (refcount = the listener set). A publisher's own
 * instance receives its message back through Redis, like every other instance: one delivery path.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient, Redis } from './connect.ts';
import { closeRedis, createRedis, DEFAULT_PREFIX, describe, isReady, RedisUnavailableError, unavailable } from './connect.ts';
import type { Broker, BrokerMessage, Listener } from '../../channels/broker.ts';
import { ListenerSets } from '../listener-sets.ts';

export interface RedisBrokerOptions {
  /** Redis URL; the subscriber connection (and the publisher, unless given) is made from it. */
  readonly url: string;
  /** A shared command connection for PUBLISH (made with `createRedis`); not closed by `close()`. */
  readonly publisher?: Redis;
  /** Key/channel prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
}

/** SUBSCRIBE arguments per command when restoring many channels after a reconnect. */
const RESUBSCRIBE_BATCH = 1000;

export class RedisBroker implements Broker {
  readonly #pub: OwnedClient;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #subscribers: ListenerSets<Listener>;
  /** SUBSCRIBE commands in flight, so a second listener waits for the same confirmation. */
  readonly #pending = new Map<string, Promise<unknown>>();
  /** True once the current subscriber connection carries every channel of the map. */
  #restored = false;
  /** Bumped on every subscriber reconnect, so a late resubscribe result cannot mark a newer link restored. */
  #epoch = 0;
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    const logger = options.logger;
    this.#log = (logger ?? silentLogger).child({ component: 'redis-broker' });
    this.#subscribers = new ListenerSets<Listener>(this.#log);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}ch:`;
    this.#pub = options.publisher
      ? { client: options.publisher, owned: false }
      : { client: createRedis({ url: options.url, name: 'hws-pub', ...(logger ? { logger } : {}) }), owned: true };
    this.#sub = createRedis({ url: options.url, name: 'hws-sub', ...(logger ? { logger } : {}) });
    this.#sub.on('message', (redisChannel: string, payload: string) => this.#onMessage(redisChannel, payload));
    this.#sub.on('close', () => {
      this.#restored = false;
      this.#epoch += 1;
    });
    this.#sub.on('ready', () => void this.#resubscribe());
  }

  get healthy(): boolean {
    return !this.#closed && isReady(this.#pub.client) && isReady(this.#sub) && this.#restored;
  }

  async publish(message: BrokerMessage): Promise<void> {
    if (this.#closed) throw new RedisUnavailableError('broker closed');
    const payload = JSON.stringify({ channel: message.channel, data: message.data, from: message.from });
    try {
      await this.#pub.client.publish(this.#prefix + message.channel, payload);
    } catch (error) {
      throw unavailable('broker', error);
    }
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    // Until the subscriber link is back and restored, a new listener could miss messages: refuse it.
    if (this.#closed) throw new RedisUnavailableError('broker closed');
    if (!isReady(this.#sub) || !this.#restored) throw new RedisUnavailableError('broker');
    const { first, remove } = this.#subscribers.add(channel, listener);
    let confirmed = this.#pending.get(channel);
    if (first) {
      const sent: Promise<unknown> = this.#sub.subscribe(this.#prefix + channel);
      this.#pending.set(channel, sent);
      confirmed = sent;
      sent
        .catch(() => {}) // reported to every waiter below
        .finally(() => {
          if (this.#pending.get(channel) === sent) this.#pending.delete(channel);
        });
    }
    try {
      await confirmed;
    } catch (error) {
      if (remove()) this.#unsubscribeRemote(channel); // it may have reached Redis before the failure
      throw unavailable('broker', error);
    }
    return () => {
      if (remove()) this.#unsubscribeRemote(channel);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribers.clear();
    await Promise.all([closeRedis(this.#sub), this.#pub.owned ? closeRedis(this.#pub.client) : undefined]);
  }

  /** The last local listener left. Commands on one connection run in order, so a SUBSCRIBE sent after this one still wins. */
  #unsubscribeRemote(channel: string): void {
    if (this.#closed || !isReady(this.#sub)) return; // a dead link holds no subscription; the map decides on reconnect
    this.#sub.unsubscribe(this.#prefix + channel).catch((error: unknown) => {
      this.#log.debug({ channel, err: describe(error) }, 'unsubscribe failed');
    });
  }

  /** On every (re)connect: SUBSCRIBE everything the map holds. A failure forces a reconnect, which retries. */
  async #resubscribe(): Promise<void> {
    const epoch = this.#epoch;
    const channels = this.#subscribers.channels();
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.#sub.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH).map((c) => this.#prefix + c));
      }
      if (epoch !== this.#epoch || this.#closed) return;
      this.#restored = true;
      if (channels.length > 0) this.#log.info({ channels: channels.length }, 'broker subscriptions restored');
    } catch (error) {
      if (epoch !== this.#epoch || this.#closed) return;
      this.#log.warn({ err: describe(error) }, 'restoring subscriptions failed; reconnecting');
      this.#sub.disconnect(true);
    }
  }

  #onMessage(redisChannel: string, payload: string): void {
    if (!redisChannel.startsWith(this.#prefix)) return;
    const channel = redisChannel.slice(this.#prefix.length);
    const message = decode(payload, channel);
    if (message === null) {
      // Only something else writing under our prefix produces this; never deliver it.
      this.#log.warn({ channel }, 'malformed broker message dropped');
      return;
    }
    this.#subscribers.each(this.#subscribers.snapshot(channel), channel, (listener) => listener(message));
  }
}

/** The wire form back to a message; null unless it is `{channel,from,data}` for the channel it arrived on. */
export function decode(payload: string, channel: string): BrokerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (v.channel !== channel || typeof v.from !== 'string') return null;
  return { channel, from: v.from, data: 'data' in v ? v.data : null };
}
