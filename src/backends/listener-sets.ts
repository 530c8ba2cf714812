/**
 * Per-channel listener sets with refcounting, shared by the memory and Redis brokers and streams:
 * the Redis ones SUBSCRIBE a channel on its first listener and UNSUBSCRIBE after its last.
 */
import type { Logger } from '../logging/logger.ts';

/** One subscribe() call. Its own object, so the same listener subscribed twice is two entries. */
interface Entry<L> {
  readonly listener: L;
  active: boolean;
}

export class ListenerSets<L> {
  readonly #channels = new Map<string, Set<Entry<L>>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a listener; `first` tells the caller the channel just gained its first one. */
  add(channel: string, listener: L): { first: boolean; remove: () => boolean } {
    let entries = this.#channels.get(channel);
    const first = entries === undefined;
    if (entries === undefined) this.#channels.set(channel, (entries = new Set()));
    const entry: Entry<L> = { listener, active: true };
    entries.add(entry);
    const set = entries;
    // True when this removal left the channel without listeners; later calls return false.
    const remove = (): boolean => {
      if (!entry.active) return false;
      entry.active = false;
      set.delete(entry);
      if (set.size > 0 || this.#channels.get(channel) !== set) return false;
      this.#channels.delete(channel);
      return true;
    };
    return { first, remove };
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /** The listeners now; call `each` later and a listener removed meanwhile is skipped. */
  snapshot(channel: string): readonly Entry<L>[] {
    const entries = this.#channels.get(channel);
    return entries === undefined ? [] : [...entries];
  }

  /** Calls `call` for each still-active entry; a throwing listener is logged and the others still run. */
  each(targets: readonly Entry<L>[], channel: string, call: (listener: L) => void): void {
    for (const entry of targets) {
      if (!entry.active) continue;
      try {
        call(entry.listener);
      } catch (error) {
        this.#log.error({ channel, err: error instanceof Error ? error.message : String(error) }, 'listener threw');
      }
    }
  }

  clear(): void {
    for (const entries of this.#channels.values()) for (const entry of entries) entry.active = false;
    this.#channels.clear();
  }
}
