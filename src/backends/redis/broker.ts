/**
 * Pub/sub across instances over Redis. PUBLISH goes on a command connection, and this instance's
 * subscriber (subscriber.ts) carries subscriptions and deliveries, so a burst of deliveries never
 * delays a publish. Each broker channel is one Redis channel `<prefix>ch:<channel>`, subscribed
 * while at least one local listener wants it (refcount = the listener set). On a Redis Cluster it is
 * a shard channel (SPUBLISH / SSUBSCRIBE on the master owning its slot): each channel's traffic
 * stays on one shard instead of crossing every node's cluster bus; the control channel
 * (revocations, the cluster view, one slot) is light. A publisher's own instance receives its
 * message back through Redis, like every other instance: one delivery path. At most once, like
 * Redis pub/sub: a message published while a subscription is interrupted is not delivered.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient, RedisClient } from './connect.ts';
import { closeRedis, createRedis, DEFAULT_PREFIX, isCluster, isReady, RedisUnavailableError, unavailable } from './connect.ts';
import type { Broker, BrokerMessage, Listener } from '../../channels/broker.ts';
import { ListenerSets } from '../listener-sets.ts';
import type { Subscriber } from './subscriber.ts';
import { createSubscriber } from './subscribers.ts';

export interface RedisBrokerOptions {
  /** Redis URL (or `redis+cluster://…`); the subscriber connections (and the publisher, unless given) are made from it. */
  readonly url: string;
  /** A shared command connection for PUBLISH (made with `createRedis`); not closed by `close()`. */
  readonly publisher?: RedisClient;
  /** Key/channel prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
}

export class RedisBroker implements Broker {
  readonly #pub: OwnedClient;
  readonly #subscriber: Subscriber;
  readonly #prefix: string;
  readonly #subscribers: ListenerSets<Listener>;
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    const logger = options.logger;
    const log = (logger ?? silentLogger).child({ component: 'redis-broker' });
    this.#subscribers = new ListenerSets<Listener>(log);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}ch:`;
    this.#pub = options.publisher
      ? { client: options.publisher, owned: false }
      : { client: createRedis({ url: options.url, name: 'hws-pub', ...(logger ? { logger } : {}) }), owned: true };
    this.#subscriber = createSubscriber({
      url: options.url,
      commands: this.#pub.client,
      name: 'hws-sub',
      logger: log,
      events: {
        message: (redisChannel, payload) => this.#onMessage(redisChannel, payload, log),
        // Nothing to read back (pub/sub is at most once here); said for the operator.
        resumed: (channels) => log.info({ channels: channels.length }, 'broker subscriptions restored'),
      },
    });
  }

  get healthy(): boolean {
    return !this.#closed && isReady(this.#pub.client) && this.#subscriber.healthy;
  }

  async publish(message: BrokerMessage): Promise<void> {
    if (this.#closed) throw new RedisUnavailableError('broker closed');
    const payload = JSON.stringify({ channel: message.channel, data: message.data, from: message.from });
    const client = this.#pub.client;
    const redisChannel = this.#prefix + message.channel;
    try {
      await (isCluster(client) ? client.spublish(redisChannel, payload) : client.publish(redisChannel, payload));
    } catch (error) {
      throw unavailable('broker', error);
    }
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    if (this.#closed) throw new RedisUnavailableError('broker closed');
    const redisChannel = this.#prefix + channel;
    const { remove } = this.#subscribers.add(channel, listener);
    try {
      await this.#subscriber.add(redisChannel);
    } catch (error) {
      if (remove()) this.#subscriber.remove(redisChannel); // it may have reached Redis before the failure
      throw unavailable('broker', error);
    }
    return () => {
      if (remove()) this.#subscriber.remove(redisChannel);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribers.clear();
    await Promise.all([this.#subscriber.close(), this.#pub.owned ? closeRedis(this.#pub.client) : undefined]);
  }

  #onMessage(redisChannel: string, payload: string, log: Logger): void {
    if (!redisChannel.startsWith(this.#prefix)) return;
    const channel = redisChannel.slice(this.#prefix.length);
    const message = decode(payload, channel);
    if (message === null) {
      // Only something else writing under our prefix produces this; never deliver it.
      log.warn({ channel }, 'malformed broker message dropped');
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
