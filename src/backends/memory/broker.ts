/**
 * The default broker: one process, no I/O. Delivery is asynchronous (a microtask per publish), like
 * every networked broker, so code written against it does not come to rely on re-entrant delivery.
 * `Subscribers` (the per-channel listener sets) is shared with the Redis broker.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { Broker, BrokerMessage, Listener } from '../../channels/broker.ts';

/** One subscribe() call. Its own object, so the same function subscribed twice is two entries. */
export interface SubscriberEntry {
  readonly listener: Listener;
  active: boolean;
}

export class Subscribers {
  readonly #channels = new Map<string, Set<SubscriberEntry>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a listener; `first` tells the caller this channel just gained its first one. */
  add(channel: string, listener: Listener): { first: boolean; remove: () => boolean } {
    let entries = this.#channels.get(channel);
    const first = entries === undefined;
    if (entries === undefined) this.#channels.set(channel, (entries = new Set()));
    const entry: SubscriberEntry = { listener, active: true };
    entries.add(entry);
    const set = entries;
    // Returns true when this removal left the channel without listeners (idempotent: later calls return false).
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

  snapshot(channel: string): SubscriberEntry[] {
    const entries = this.#channels.get(channel);
    return entries === undefined ? [] : [...entries];
  }

  /**
   * Calls each listener of the snapshot that is still subscribed (one removed during delivery is
   * skipped); a throwing listener is logged and does not stop the others.
   */
  deliver(targets: readonly SubscriberEntry[], message: BrokerMessage): void {
    for (const entry of targets) {
      if (!entry.active) continue;
      try {
        entry.listener(message);
      } catch (error) {
        this.#log.error({ channel: message.channel, err: error instanceof Error ? error.message : String(error) }, 'broker listener threw');
      }
    }
  }

  clear(): void {
    for (const entries of this.#channels.values()) for (const entry of entries) entry.active = false;
    this.#channels.clear();
  }
}

export interface MemoryBrokerOptions {
  /** Where a throwing listener is reported. */
  readonly logger?: Logger;
}

export class MemoryBroker implements Broker {
  readonly #subscribers: Subscribers;
  #closed = false;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#subscribers = new Subscribers((options.logger ?? silentLogger).child({ component: 'memory-broker' }));
  }

  get healthy(): boolean {
    return !this.#closed;
  }

  async publish(message: BrokerMessage): Promise<void> {
    if (this.#closed) throw closedError();
    // Snapshot now: a listener added after this publish must not receive it (as with Redis).
    const targets = this.#subscribers.snapshot(message.channel);
    if (targets.length === 0) return;
    queueMicrotask(() => this.#subscribers.deliver(targets, message));
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    if (this.#closed) throw closedError();
    const { remove } = this.#subscribers.add(channel, listener);
    return () => void remove();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribers.clear();
  }
}

/** Same `code` as the Redis pieces, so callers handle "cannot publish now" in one place. */
function closedError(): Error {
  return Object.assign(new Error('broker closed'), { code: 'unavailable' });
}
