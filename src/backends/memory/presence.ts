/**
 * Presence in one process. Entries live exactly as long as their subscriptions (nothing can die
 * without taking this map with it), so there is no lease to renew; `leaseMs` is 0.
 */
import type { Presence, PresenceEntry, PresencePage, PresenceStats } from '../../channels/presence.ts';
import { checkListLimit, encodeEntry } from '../../channels/presence.ts';
import { checkChannel } from '../../channels/stream.ts';
import { StorageError } from '../../channels/storage-error.ts';

interface ChannelPresence {
  readonly entries: Map<string, PresenceEntry>;
  /** Connections per sub, for the users count. */
  readonly subs: Map<string, number>;
}

export class MemoryPresence implements Presence {
  readonly leaseMs = 0;
  readonly #channels = new Map<string, ChannelPresence>();
  #closed = false;

  get healthy(): boolean {
    return !this.#closed;
  }

  async join(channel: string, entry: PresenceEntry): Promise<void> {
    this.#open();
    encodeEntry(channel, entry); // the same validation as every backend
    let presence = this.#channels.get(channel);
    if (presence === undefined) this.#channels.set(channel, (presence = { entries: new Map(), subs: new Map() }));
    const previous = presence.entries.get(entry.connectionId);
    if (previous !== undefined) this.#uncount(presence, previous.sub);
    // A copy: the caller's object may change later; what was joined may not.
    presence.entries.set(entry.connectionId, structuredClone({ ...entry }));
    presence.subs.set(entry.sub, (presence.subs.get(entry.sub) ?? 0) + 1);
  }

  async leave(channel: string, connectionId: string): Promise<void> {
    const presence = this.#channels.get(channel);
    const entry = presence?.entries.get(connectionId);
    if (presence === undefined || entry === undefined) return;
    presence.entries.delete(connectionId);
    this.#uncount(presence, entry.sub);
    if (presence.entries.size === 0) this.#channels.delete(channel);
  }

  async list(channel: string, limit: number): Promise<PresencePage> {
    this.#open();
    checkChannel(channel);
    checkListLimit(limit);
    const entries = this.#channels.get(channel)?.entries;
    if (entries === undefined) return { entries: [], total: 0 };
    const page: PresenceEntry[] = [];
    for (const entry of entries.values()) {
      if (page.length >= limit) break;
      page.push(structuredClone(entry));
    }
    return { entries: page, total: entries.size };
  }

  async stats(channel: string): Promise<PresenceStats> {
    this.#open();
    checkChannel(channel);
    const presence = this.#channels.get(channel);
    return { connections: presence?.entries.size ?? 0, users: presence?.subs.size ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
  }

  #open(): void {
    if (this.#closed) throw new StorageError('unavailable', 'presence closed');
  }

  #uncount(presence: ChannelPresence, sub: string): void {
    const left = (presence.subs.get(sub) ?? 1) - 1;
    if (left > 0) presence.subs.set(sub, left);
    else presence.subs.delete(sub);
  }
}
