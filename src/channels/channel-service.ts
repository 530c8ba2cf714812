/**
 * The ChannelService: what publishing, reading history and presence mean for a channel, the same
 * for a client socket (channel-handlers.ts) and for the server API. Permissions are the caller's.
 */
import type { ChannelNamespaces } from './namespaces.ts';
import type { Presence, PresencePage, PresenceStats } from './presence.ts';
import { StorageError } from './storage-error.ts';
import type { Position, ReadResult, Stream } from './stream.ts';
import { checkChannel, DEFAULT_IDEMPOTENCY_TTL_MS, isEpochToken } from './stream.ts';

export interface PublishOptions {
  /** A retried publish with the same key (per channel) within the dedupe window is stored once; the retry gets the first one's position. */
  readonly idempotencyKey?: string;
}

/** What publishing, reading history and presence mean for a channel, the same for a client socket and for the server API. */
export interface ChannelService {
  /**
   * Delivers `data` to every subscriber of `channel` on every instance, as `from`; in a namespace with
   * history it is stored first and the position returned (null without history). Rejects with a
   * StorageError (`unavailable`, …) when it could not be stored: never resolves for a publication that
   * was not stored. Does not check permissions (callers do).
   */
  publish(channel: string, data: unknown, from: string, options?: PublishOptions): Promise<Position | null>;
  /** History page after `since` (exclusive; the oldest kept when absent), at most `limit` (1..1000). Rejects with StorageError `history_disabled` where the namespace keeps none. */
  history(channel: string, request: { readonly since?: Position; readonly limit: number }): Promise<ReadResult>;
  /** Rejects with StorageError `presence_disabled` where the namespace has no presence. */
  presence(channel: string, limit: number): Promise<PresencePage>;
  presenceStats(channel: string): Promise<PresenceStats>;
}

export interface ChannelServiceOptions {
  readonly stream: Stream;
  readonly presence: Presence;
  readonly namespaces: ChannelNamespaces;
  /**
   * How long a publish's idempotency key is remembered (ms). Default 120 000. On Redis the key
   * lives beside the channel's stream and is checked in the append's own script, so a retry on
   * another instance is deduplicated too; in memory at most 100 000 keys are kept (the oldest go
   * first past that).
   */
  readonly idempotencyWindowMs?: number;
}

export function createChannelService(options: ChannelServiceOptions): ChannelService {
  const { stream, presence, namespaces } = options;
  const idempotencyTtlMs = options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;

  const presenceOn = (channel: string): void => {
    checkChannel(channel);
    if (!namespaces.optionsFor(channel).presence) throw new StorageError('presence_disabled');
  };

  return {
    publish: (channel, data, from, publishOptions) =>
      stream.publish(
        channel,
        { data, from },
        namespaces.historyFor(channel),
        publishOptions?.idempotencyKey === undefined ? undefined : { idempotencyKey: publishOptions.idempotencyKey, idempotencyTtlMs },
      ),

    history: async (channel, { since, limit }) => {
      checkChannel(channel);
      const policy = namespaces.historyFor(channel);
      if (policy === null) throw new StorageError('history_disabled');
      if (since !== undefined && !isEpochToken(since.epoch)) {
        // No backend could have made this epoch: certainly not the stream's. Answer with the position only.
        if (!Number.isSafeInteger(since.offset) || since.offset < 0) throw new StorageError('invalid_position');
        const { position } = await stream.read(channel, { after: 0, limit: 0 }, policy);
        return { publications: [], position, epochMatches: false, reachesBack: false };
      }
      if (!Number.isInteger(limit) || limit < 1) throw new StorageError('invalid_limit', 'limit must be 1..1000');
      return stream.read(channel, since === undefined ? { after: 0, limit } : { after: since.offset, epoch: since.epoch, limit }, policy);
    },

    presence: async (channel, limit) => {
      presenceOn(channel);
      return presence.list(channel, limit);
    },

    presenceStats: async (channel) => {
      presenceOn(channel);
      return presence.stats(channel);
    },
  };
}
