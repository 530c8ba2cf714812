/**
 * The Redis stream's live side: the channels' notifications on this instance's subscriber
 * (subscriber.ts: one connection on one Redis, one per master on a Cluster), each notify channel
 * subscribed while it has local listeners (refcounted). Redis pub/sub is at-most-once, so when a
 * channel is subscribed again after any interruption its listeners are told `resumed()`: they read
 * what they may have missed from the stream.
 */
import type { Logger } from '../../logging/logger.ts';
import type { Publication, StreamListener } from '../../channels/stream.ts';
import { StorageError } from '../../channels/storage-error.ts';
import type { RedisClient } from './connect.ts';
import { ListenerSets } from '../listener-sets.ts';
import { channelKeys, channelOfNotify } from './keys.ts';
import { decodeBody, decodeNotification } from './stream-scripts.ts';
import type { Subscriber } from './subscriber.ts';
import { createSubscriber } from './subscribers.ts';

export class RedisNotifications {
  readonly #subscriber: Subscriber;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #listeners: ListenerSets<StreamListener>;
  #closed = false;

  constructor(options: { readonly url: string; readonly commands: RedisClient; readonly prefix: string; readonly logger: Logger }) {
    this.#log = options.logger;
    this.#prefix = options.prefix;
    this.#listeners = new ListenerSets(this.#log);
    this.#subscriber = createSubscriber({
      url: options.url,
      commands: options.commands,
      name: 'hws-stream-sub',
      logger: options.logger,
      events: {
        message: (redisChannel, payload) => this.#onMessage(redisChannel, payload),
        resumed: (redisChannels) => this.#onResumed(redisChannels),
      },
    });
  }

  get healthy(): boolean {
    return !this.#closed && this.#subscriber.healthy;
  }

  async subscribe(channel: string, listener: StreamListener): Promise<() => void> {
    if (this.#closed) throw new StorageError('unavailable', 'stream notifications: closed');
    const notify = channelKeys(this.#prefix, channel).notify;
    const { remove } = this.#listeners.add(channel, listener);
    try {
      await this.#subscriber.add(notify);
    } catch (error) {
      if (remove()) this.#subscriber.remove(notify); // it may have reached Redis before the failure
      throw new StorageError('unavailable', 'stream notifications: redis unavailable', { cause: error });
    }
    return () => {
      if (remove()) this.#subscriber.remove(notify);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    await this.#subscriber.close();
  }

  #onResumed(redisChannels: readonly string[]): void {
    let told = 0;
    for (const redisChannel of redisChannels) {
      const channel = channelOfNotify(this.#prefix, redisChannel);
      if (channel === null || !this.#listeners.has(channel)) continue;
      told += 1;
      this.#listeners.each(this.#listeners.snapshot(channel), channel, (l) => l.resumed());
    }
    if (told > 0) this.#log.info({ channels: told }, 'stream subscriptions restored');
  }

  #onMessage(redisChannel: string, payload: string): void {
    const channel = channelOfNotify(this.#prefix, redisChannel);
    if (channel === null) return;
    const note = decodeNotification(payload);
    const body = note === null ? null : decodeBody(note.body);
    if (note === null || body === null) {
      // Only something else writing under our prefix produces this; never deliver it.
      this.#log.warn({ channel }, 'malformed stream notification dropped');
      return;
    }
    const publication: Publication = {
      channel,
      data: body.data,
      from: body.from,
      ...(note.offset !== null ? { position: { offset: note.offset, epoch: note.epoch } } : {}),
    };
    this.#listeners.each(this.#listeners.snapshot(channel), channel, (l) => l.publication(publication));
  }
}
