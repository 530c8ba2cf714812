/**
 * An in-memory ChannelService for unit tests of its callers (the server API, the hooks): channels in
 * `history:` keep every publication, `presence:` has presence, anything else is live only.
 * Idempotency keys are remembered per channel. `down = true` makes every call reject `unavailable`.
 */
import type { ChannelService, PublishOptions } from '../../src/channels/channel-service.ts';
import type { PresenceEntry, PresencePage, PresenceStats } from '../../src/channels/presence.ts';
import { StorageError } from '../../src/channels/storage-error.ts';
import type { Position, Publication, ReadResult } from '../../src/channels/stream.ts';

export class FakeChannelService implements ChannelService {
  readonly published: { channel: string; data: unknown; from: string; options?: PublishOptions }[] = [];
  readonly stored = new Map<string, Publication[]>();
  readonly presenceOf = new Map<string, PresenceEntry[]>();
  readonly #keys = new Map<string, Position>();
  readonly epoch = 'fakeepoch';
  down = false;

  async publish(channel: string, data: unknown, from: string, options?: PublishOptions): Promise<Position | null> {
    this.#check();
    const key = options?.idempotencyKey;
    if (key !== undefined && this.#keys.has(`${channel}\n${key}`)) return this.#keys.get(`${channel}\n${key}`)!;
    this.published.push({ channel, data, from, ...(options === undefined ? {} : { options }) });
    if (!channel.startsWith('history:')) return null;
    const list = this.stored.get(channel) ?? [];
    const position = { offset: list.length + 1, epoch: this.epoch };
    list.push({ channel, data, from, position });
    this.stored.set(channel, list);
    if (key !== undefined) this.#keys.set(`${channel}\n${key}`, position);
    return position;
  }

  async history(channel: string, request: { readonly since?: Position; readonly limit: number }): Promise<ReadResult> {
    this.#check();
    if (!channel.startsWith('history:')) throw new StorageError('history_disabled' as never);
    const list = this.stored.get(channel) ?? [];
    const after = request.since?.offset ?? 0;
    const epochMatches = request.since === undefined || request.since.epoch === this.epoch;
    return {
      publications: epochMatches ? list.filter((p) => p.position!.offset > after).slice(0, request.limit) : [],
      position: { offset: list.length, epoch: this.epoch },
      epochMatches,
      reachesBack: epochMatches,
    };
  }

  async presence(channel: string, limit: number): Promise<PresencePage> {
    this.#check();
    if (!channel.startsWith('presence:')) throw new StorageError('presence_disabled' as never);
    const entries = this.presenceOf.get(channel) ?? [];
    return { entries: entries.slice(0, limit), total: entries.length };
  }

  async presenceStats(channel: string): Promise<PresenceStats> {
    const { entries } = await this.presence(channel, 1000);
    return { connections: entries.length, users: new Set(entries.map((e) => e.sub)).size };
  }

  #check(): void {
    if (this.down) throw new StorageError('unavailable');
  }
}
