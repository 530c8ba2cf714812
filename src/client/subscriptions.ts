/**
 * The client's subscriptions, one per channel: created on first use, subscribed again after every
 * `auth.ok` (a new socket starts with none), told when the socket is gone or the client closed, and
 * handed the server's frames for their channel.
 */
import { ClientError } from './errors.ts';
import { SubscriptionCore, type ChannelPort } from './subscription-core.ts';
import type { ChannelQueries } from './subscription.ts';
import type { Reply } from './types.ts';

/** Server frames that belong to one channel's subscription. */
const CHANNEL_FRAMES = new Set(['message', 'resync', 'join', 'leave']);

export class SubscriptionRegistry {
  readonly #cores = new Map<string, SubscriptionCore>();
  readonly #port: ChannelPort;
  readonly #queries: ChannelQueries;

  constructor(port: ChannelPort, queries: ChannelQueries) {
    this.#port = port;
    this.#queries = queries;
  }

  /** The channel's subscription, created (unsubscribed) when there is none. Throws for a name that is not a non-empty string. */
  get(channel: string): SubscriptionCore {
    if (typeof channel !== 'string' || channel.length === 0) throw new ClientError('invalid_message', 'channel must be a non-empty string');
    let core = this.#cores.get(channel);
    if (core === undefined) this.#cores.set(channel, (core = new SubscriptionCore(channel, this.#port, this.#queries)));
    return core;
  }

  find(channel: string): SubscriptionCore | undefined {
    return this.#cores.get(channel);
  }

  /** Forgets a subscription (its handle stops receiving); the caller unsubscribes it first. */
  remove(channel: string): void {
    this.#cores.delete(channel);
  }

  channels(): string[] {
    return [...this.#cores.values()].filter((core) => core.state !== 'unsubscribed').map((core) => core.channel);
  }

  connected(): void {
    for (const core of this.#cores.values()) core.connected();
  }

  disconnected(): void {
    for (const core of this.#cores.values()) core.disconnected();
  }

  closed(error: ClientError): void {
    for (const core of this.#cores.values()) core.closed(error);
  }

  /** Hands a channel frame to its subscription; false when the frame is not one. */
  route(message: Reply): boolean {
    if (!CHANNEL_FRAMES.has(message.type) || typeof message.channel !== 'string') return false;
    this.#cores.get(message.channel)?.frame(message);
    return true;
  }
}
