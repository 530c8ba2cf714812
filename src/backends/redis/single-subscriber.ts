/** The subscriber of one Redis: one connection carries every channel; after a reconnect all are restored, then all are resumed. */
import type { Logger } from '../../logging/logger.ts';
import type { Redis } from './connect.ts';
import { closeRedis, createRedis, describe, isReady, RedisUnavailableError, unavailable } from './connect.ts';
import type { Subscriber, SubscriberEvents, SubscriberOptions } from './subscriber.ts';

/** SUBSCRIBE arguments per command when restoring many channels after a reconnect. */
const RESUBSCRIBE_BATCH = 1000;

export class SingleSubscriber implements Subscriber {
  readonly #sub: Redis;
  readonly #log: Logger;
  readonly #events: SubscriberEvents;
  readonly #wanted = new Set<string>();
  /** SUBSCRIBE commands in flight, so a second add waits for the same confirmation. */
  readonly #pending = new Map<string, Promise<void>>();
  /** True once the current connection carries every wanted channel. */
  #restored = false;
  /** Bumped on every disconnect, so a late resubscribe result cannot mark a newer link restored. */
  #link = 0;
  /** Set by a disconnect; the next completed restore names every channel in `resumed`. */
  #interrupted = false;
  #closed = false;

  constructor(options: SubscriberOptions) {
    this.#log = options.logger;
    this.#events = options.events;
    this.#sub = createRedis({ url: options.url, name: options.name, logger: options.logger }) as Redis;
    this.#sub.on('message', (channel: string, payload: string) => this.#events.message(channel, payload));
    this.#sub.on('close', () => {
      if (this.#restored) this.#interrupted = true; // channels are wanted only on a link that was restored
      this.#restored = false;
      this.#link += 1;
    });
    this.#sub.on('ready', () => void this.#restore());
  }

  get healthy(): boolean {
    return !this.#closed && isReady(this.#sub) && this.#restored;
  }

  add(channel: string): Promise<void> {
    // Until the link is back and restored, a new channel could miss messages: refuse it.
    if (this.#closed || !isReady(this.#sub) || !this.#restored) return Promise.reject(new RedisUnavailableError('subscriber'));
    if (this.#wanted.has(channel)) return this.#pending.get(channel) ?? Promise.resolve();
    this.#wanted.add(channel);
    const sent = this.#sub.subscribe(channel).then(
      () => {},
      (error: unknown) => {
        throw unavailable('subscriber', error);
      },
    );
    this.#pending.set(channel, sent);
    const settled = () => {
      if (this.#pending.get(channel) === sent) this.#pending.delete(channel);
    };
    sent.then(settled, settled);
    return sent;
  }

  /** Commands on one connection run in order, so a SUBSCRIBE sent after this one still wins. */
  remove(channel: string): void {
    if (!this.#wanted.delete(channel)) return;
    // A SUBSCRIBE in flight is undone by the UNSUBSCRIBE below: a later add() must not wait on it but send its own.
    this.#pending.delete(channel);
    if (this.#closed || !isReady(this.#sub)) return; // a dead link holds no subscription; the set decides on reconnect
    this.#sub.unsubscribe(channel).catch((error: unknown) => {
      this.#log.debug({ err: describe(error) }, 'unsubscribe failed');
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wanted.clear();
    await closeRedis(this.#sub);
  }

  /** On every (re)connect: SUBSCRIBE everything wanted, then name it all in `resumed`. A failure forces a reconnect, which retries. */
  async #restore(): Promise<void> {
    const link = this.#link;
    const channels = [...this.#wanted];
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) await this.#sub.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
    } catch (error) {
      if (link !== this.#link || this.#closed) return;
      this.#log.warn({ err: describe(error) }, 'restoring subscriptions failed; reconnecting');
      this.#sub.disconnect(true);
      return;
    }
    if (link !== this.#link || this.#closed) return;
    this.#restored = true;
    if (!this.#interrupted) return;
    this.#interrupted = false;
    if (channels.length > 0) this.#events.resumed(channels);
  }
}
