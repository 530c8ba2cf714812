/**
 * The default broker: one process, no I/O. Delivery is asynchronous (a microtask per publish), like
 * every networked broker, so code written against it does not come to rely on re-entrant delivery.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { Broker, BrokerMessage, Listener } from '../../channels/broker.ts';
import { ListenerSets } from '../listener-sets.ts';

export interface MemoryBrokerOptions {
  /** Where a throwing listener is reported. */
  readonly logger?: Logger;
}

export class MemoryBroker implements Broker {
  readonly #subscribers: ListenerSets<Listener>;
  #closed = false;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#subscribers = new ListenerSets<Listener>((options.logger ?? silentLogger).child({ component: 'memory-broker' }));
  }

  get healthy(): boolean {
    return !this.#closed;
  }

  async publish(message: BrokerMessage): Promise<void> {
    if (this.#closed) throw closedError();
    // Snapshot now: a listener added after this publish must not receive it (as with Redis).
    const targets = this.#subscribers.snapshot(message.channel);
    if (targets.length === 0) return;
    queueMicrotask(() => this.#subscribers.each(targets, message.channel, (listener) => listener(message)));
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
