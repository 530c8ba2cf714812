/**
 * The channels this client wants, with their handlers. The set survives reconnects: after every
 * `auth.ok` the client subscribes to all of them again, because a new socket starts with none.
 */
import type { ChannelHandler, Delivery } from './types.ts';

export class ChannelSet {
  readonly #handlers = new Map<string, Set<ChannelHandler>>();

  has(channel: string): boolean {
    return this.#handlers.has(channel);
  }

  /** Adds a handler; true when the channel is new (so the server must be told). */
  add(channel: string, handler: ChannelHandler): boolean {
    const existing = this.#handlers.get(channel);
    if (existing !== undefined) {
      existing.add(handler);
      return false;
    }
    this.#handlers.set(channel, new Set([handler]));
    return true;
  }

  /** Removes one handler (or all); true when the channel has none left (so the server must be told). */
  remove(channel: string, handler?: ChannelHandler): boolean {
    const set = this.#handlers.get(channel);
    if (set === undefined) return false;
    if (handler !== undefined) set.delete(handler);
    if (handler !== undefined && set.size > 0) return false;
    this.#handlers.delete(channel);
    return true;
  }

  channels(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Calls the channel's handlers; returns what they threw (reported by the caller, never rethrown). */
  deliver(data: unknown, delivery: Delivery): unknown[] {
    const errors: unknown[] = [];
    for (const handler of [...(this.#handlers.get(delivery.channel) ?? [])]) {
      try {
        handler(data, delivery);
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}
