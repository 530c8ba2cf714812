/**
 * The Redis stream's live side: one dedicated subscriber connection per instance, a Redis
 * SUBSCRIBE per channel while it has local listeners (refcounted), restored from the listener map
 * after every reconnect (ioredis's autoResubscribe is off: see connect.ts). Redis pub/sub is
 * at-most-once, so once a channel is SUBSCRIBEd again its listeners are told `resumed()`: they read
 * what they may have missed from the stream.
 */
import type { Logger } from '../../logging/logger.ts';
import type { Publication, StreamListener } from '../../channels/stream.ts';
import { StorageError } from '../../channels/storage-error.ts';
import type { Redis } from './connect.ts';
import { closeRedis, createRedis, describe, isReady } from './connect.ts';
import { ListenerSets } from '../listener-sets.ts';
import { channelKeys, channelOfNotify } from './keys.ts';
import { decodeBody, decodeNotification } from './stream-scripts.ts';

/** SUBSCRIBE arguments per command when restoring many channels after a reconnect. */
const RESUBSCRIBE_BATCH = 1000;

export class RedisNotifications {
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #listeners: ListenerSets<StreamListener>;
  /** SUBSCRIBE commands in flight, so a second listener waits for the same confirmation. */
  readonly #pending = new Map<string, Promise<unknown>>();
  /** True once the current connection carries every channel of the map. */
  #restored = false;
  /** Bumped on every disconnect, so a late resubscribe result cannot mark a newer link restored. */
  #link = 0;
  /** Set by a disconnect; the next completed restore tells the listeners `resumed()`. */
  #interrupted = false;
  #closed = false;

  constructor(options: { readonly url: string; readonly prefix: string; readonly logger: Logger }) {
    this.#log = options.logger;
    this.#prefix = options.prefix;
    this.#listeners = new ListenerSets(this.#log);
    this.#sub = createRedis({ url: options.url, name: 'hws-stream-sub', logger: options.logger });
    this.#sub.on('message', (redisChannel: string, payload: string) => this.#onMessage(redisChannel, payload));
    this.#sub.on('close', () => {
      if (this.#restored) this.#interrupted = true; // listeners exist only on a link that was restored
      this.#restored = false;
      this.#link += 1;
    });
    this.#sub.on('ready', () => void this.#resubscribe());
  }

  get healthy(): boolean {
    return !this.#closed && isReady(this.#sub) && this.#restored;
  }

  async subscribe(channel: string, listener: StreamListener): Promise<() => void> {
    // Until the link is back and restored, a new listener could miss publications: refuse it.
    if (this.#closed || !isReady(this.#sub) || !this.#restored)
      throw new StorageError('unavailable', 'stream notifications: redis unavailable');
    const { first, remove } = this.#listeners.add(channel, listener);
    let confirmed = this.#pending.get(channel);
    if (first) {
      const sent: Promise<unknown> = this.#sub.subscribe(channelKeys(this.#prefix, channel).notify);
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
      throw new StorageError('unavailable', 'stream notifications: redis unavailable', { cause: error });
    }
    return () => {
      if (remove()) this.#unsubscribeRemote(channel);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    await closeRedis(this.#sub);
  }

  /** The last local listener left. Commands on one connection run in order, so a later SUBSCRIBE still wins. */
  #unsubscribeRemote(channel: string): void {
    if (this.#closed || !isReady(this.#sub)) return; // a dead link holds no subscription; the map decides on reconnect
    this.#sub.unsubscribe(channelKeys(this.#prefix, channel).notify).catch((error: unknown) => {
      this.#log.debug({ channel, err: describe(error) }, 'unsubscribe failed');
    });
  }

  /** On every (re)connect: SUBSCRIBE everything the map holds, then tell its listeners to catch up. */
  async #resubscribe(): Promise<void> {
    const link = this.#link;
    const channels = this.#listeners.channels();
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.#sub.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH).map((c) => channelKeys(this.#prefix, c).notify));
      }
    } catch (error) {
      if (link !== this.#link || this.#closed) return;
      this.#log.warn({ err: describe(error) }, 'restoring stream subscriptions failed; reconnecting');
      this.#sub.disconnect(true);
      return;
    }
    if (link !== this.#link || this.#closed) return;
    this.#restored = true;
    if (!this.#interrupted) return;
    this.#interrupted = false;
    if (channels.length > 0) this.#log.info({ channels: channels.length }, 'stream subscriptions restored');
    for (const channel of channels) this.#listeners.each(this.#listeners.snapshot(channel), channel, (l) => l.resumed());
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
