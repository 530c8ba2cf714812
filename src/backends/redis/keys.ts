/**
 * Redis key and pub/sub names of the stream and presence backends. The channel sits in a hash tag
 * `{…}`, so a channel's stream, position, notification channel and presence keys all hash to one
 * Redis Cluster slot (one script may touch them together). Channel names cannot hold braces.
 */
import { DEFAULT_PREFIX } from './connect.ts';

export interface ChannelKeys {
  /** Redis Stream of the channel's publications (entry id `<offset>-0`, field `p`). */
  readonly stream: string;
  /** Hash: `e` epoch, `s` latest offset. */
  readonly meta: string;
  /** Pub/sub channel of its live notifications. */
  readonly notify: string;
  /** Presence: sorted set connection id → lease expiry (ms, Redis clock). */
  readonly presenceLeases: string;
  /** Presence: hash connection id → entry JSON. */
  readonly presenceEntries: string;
  /** Presence: hash connection id → sub. */
  readonly presenceOwners: string;
  /** Presence: hash sub → number of its entries (distinct users = HLEN). */
  readonly presenceUsers: string;
}

/** Checks a prefix once: braces in it would move the hash tag. */
export function checkedPrefix(prefix: string | undefined): string {
  const value = prefix ?? DEFAULT_PREFIX;
  if (/[{}]/.test(value)) throw new RangeError('the Redis key prefix must not contain { or }');
  return value;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const tag = `{${channel}}`;
  return {
    stream: `${prefix}s:${tag}`,
    meta: `${prefix}m:${tag}`,
    notify: `${prefix}n:${tag}`,
    presenceLeases: `${prefix}p:${tag}:l`,
    presenceEntries: `${prefix}p:${tag}:e`,
    presenceOwners: `${prefix}p:${tag}:o`,
    presenceUsers: `${prefix}p:${tag}:u`,
  };
}

/** The key remembering one idempotency key of a channel (under the channel's hash tag). */
export function idempotencyKeyOf(prefix: string, channel: string, key: string): string {
  return `${prefix}i:{${channel}}:${key}`;
}

/** The channel a notification arrived on, or null when it is not one of ours. */
export function channelOfNotify(prefix: string, redisChannel: string): string | null {
  const head = `${prefix}n:{`;
  if (!redisChannel.startsWith(head) || !redisChannel.endsWith('}')) return null;
  return redisChannel.slice(head.length, -1);
}
