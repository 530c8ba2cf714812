/**
 * The ChannelService port: what publishing, reading history and presence mean for a channel, the
 * same for a client socket (the channel handlers) and for the server API. Implemented by
 * `createChannelService(...)`; callers check permissions themselves.
 */
import type { Position, ReadResult } from './stream.ts';
import type { PresencePage, PresenceStats } from './presence.ts';

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
