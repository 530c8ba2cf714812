/**
 * Channel subscriptions on top of the channel set: tells the server when a channel is first wanted
 * or no longer wanted, subscribes everything again after each `auth.ok`, and settles each
 * `subscribe()` caller once the server has confirmed (or refused) on some connection.
 */
import { ChannelSet } from './channels.ts';
import { ClientError } from './errors.ts';
import type { ChannelHandler, Delivery, OutgoingMessage, Reply } from './types.ts';

export interface SubscriptionPort {
  /** Sends a request on the live, authenticated socket, or rejects with `not_connected`. */
  request(message: OutgoingMessage): Promise<Reply>;
  /** True once `auth.ok` has arrived on the live socket. */
  isOpen(): boolean;
  /** A refusal nobody is waiting for (a resubscribe after a reconnect). */
  report(error: Error): void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Codes that mean "this connection went away": the channel is subscribed again on the next one. */
const TRANSIENT = new Set(['connection_lost', 'not_connected']);

export class ChannelSubscriptions {
  readonly #set = new ChannelSet();
  readonly #port: SubscriptionPort;
  readonly #waiters = new Map<string, Waiter[]>();
  /** Channels the server confirmed on the current connection. */
  readonly #confirmed = new Set<string>();

  constructor(port: SubscriptionPort) {
    this.#port = port;
  }

  channels(): string[] {
    return this.#set.channels();
  }

  subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    if (typeof channel !== 'string' || channel.length === 0)
      return Promise.reject(new ClientError('invalid_message', 'channel must be a non-empty string'));
    if (typeof handler !== 'function') return Promise.reject(new ClientError('invalid_message', 'handler must be a function'));
    const isNew = this.#set.add(channel, handler);
    if (!isNew && this.#confirmed.has(channel)) return Promise.resolve();
    const confirmed = new Promise<void>((resolve, reject) => {
      const list = this.#waiters.get(channel) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(channel, list);
    });
    // Not open yet: the subscribe goes out with the others right after auth.ok.
    if (isNew && this.#port.isOpen()) this.#send(channel);
    return confirmed;
  }

  unsubscribe(channel: string, handler?: ChannelHandler): Promise<void> {
    if (!this.#set.remove(channel, handler)) return Promise.resolve();
    this.#confirmed.delete(channel);
    this.#settle(channel, null);
    if (!this.#port.isOpen()) return Promise.resolve(); // a new socket starts with no subscriptions
    return this.#port.request({ type: 'unsubscribe', channel }).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof ClientError && TRANSIENT.has(error.code)) return;
        throw error;
      },
    );
  }

  /** After `auth.ok`: a new socket has no subscriptions, so ask for every wanted channel again. */
  resubscribe(): void {
    this.#confirmed.clear();
    for (const channel of this.#set.channels()) this.#send(channel);
  }

  deliver(data: unknown, delivery: Delivery): unknown[] {
    return this.#set.deliver(data, delivery);
  }

  /** The client closed: nobody waits any longer. */
  fail(error: ClientError): void {
    this.#confirmed.clear();
    for (const channel of [...this.#waiters.keys()]) this.#settle(channel, error);
  }

  #send(channel: string): void {
    this.#port.request({ type: 'subscribe', channel }).then(
      () => {
        if (!this.#set.has(channel)) return; // unsubscribed meanwhile
        this.#confirmed.add(channel);
        this.#settle(channel, null);
      },
      (error: unknown) => {
        if (error instanceof ClientError && TRANSIENT.has(error.code)) return; // retried after the next auth.ok
        const failure = error instanceof Error ? error : new ClientError('server_error', 'subscribe failed');
        // Refused (forbidden, invalid_channel, too_many_channels, …) or no answer: stop wanting it.
        this.#set.remove(channel);
        if (!this.#settle(channel, failure)) this.#port.report(failure);
      },
    );
  }

  /** Settles everyone waiting on `channel`; false when nobody was. */
  #settle(channel: string, error: Error | null): boolean {
    const list = this.#waiters.get(channel);
    this.#waiters.delete(channel);
    for (const waiter of list ?? []) {
      if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
    return list !== undefined && list.length > 0;
  }
}
