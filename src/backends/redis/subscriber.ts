/**
 * The receiving side of Redis pub/sub for one instance, in the two shapes Redis offers: one
 * connection SUBSCRIBEd to every channel (one Redis, here), or SSUBSCRIBE on the master owning each
 * channel's slot (a Redis Cluster, shard-subscriber.ts). Both keep the set of channels this
 * instance wants, subscribe it again after any interruption, and name the channels that were
 * unsubscribed for a while once they are subscribed again: pub/sub is at-most-once, so what was
 * published meanwhile was not heard, and a stream reader must read it back.
 */
import type { Logger } from '../../logging/logger.ts';
import type { RedisClient } from './connect.ts';

export interface SubscriberEvents {
  message(channel: string, payload: string): void;
  /** These channels are subscribed again after a time they were not. */
  resumed(channels: readonly string[]): void;
}

export interface Subscriber {
  /** Every wanted channel is subscribed on a live connection. */
  readonly healthy: boolean;
  /**
   * Wants the channel (idempotent); resolves once Redis confirmed the subscription. Rejects with
   * `unavailable` when it cannot be subscribed now: the caller then `remove`s it.
   */
  add(channel: string): Promise<void>;
  /** No longer wants the channel (its last local listener left). */
  remove(channel: string): void;
  close(): Promise<void>;
}

export interface SubscriberOptions {
  /** The Redis URL (a cluster URL gives a ShardSubscriber). */
  readonly url: string;
  /** The piece's command connection: on a Cluster it tells the slot map. */
  readonly commands: RedisClient;
  /** Connection name, e.g. `hws-sub`. */
  readonly name: string;
  readonly logger: Logger;
  readonly events: SubscriberEvents;
}
