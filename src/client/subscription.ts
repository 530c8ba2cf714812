/**
 * The app's handle on one channel (`client.channel(name)`): its state and position, its events, and
 * the channel's operations. One handle per channel and client; the client keeps it subscribed across
 * reconnects and recovers what was published meanwhile.
 */
import type {
  HistoryOptions,
  HistoryPage,
  PresenceResult,
  PresenceStats,
  StreamPosition,
  SubscribeOptions,
  Subscribed,
  SubscriptionEvents,
  SubscriptionState,
} from './subscription-types.ts';

/** What the handle drives (implemented by the client's subscription core). */
export interface SubscriptionControl {
  readonly channel: string;
  readonly state: SubscriptionState;
  readonly position: StreamPosition | null;
  on<K extends keyof SubscriptionEvents>(type: K, listener: (payload: SubscriptionEvents[K]) => void): () => void;
  subscribe(options: SubscribeOptions): Promise<Subscribed>;
  unsubscribe(): Promise<void>;
}

/** The channel operations that need no subscription (the client's own methods). */
export interface ChannelQueries {
  publish(channel: string, data: unknown): Promise<StreamPosition | null>;
  history(channel: string, options?: HistoryOptions): Promise<HistoryPage>;
  presence(channel: string): Promise<PresenceResult>;
  presenceStats(channel: string): Promise<PresenceStats>;
}

export class Subscription {
  readonly #control: SubscriptionControl;
  readonly #queries: ChannelQueries;

  constructor(control: SubscriptionControl, queries: ChannelQueries) {
    this.#control = control;
    this.#queries = queries;
  }

  get channel(): string {
    return this.#control.channel;
  }

  /** `unsubscribed`, `subscribing` (asked, or waiting for the connection to come back) or `subscribed`. */
  get state(): SubscriptionState {
    return this.#control.state;
  }

  /**
   * The position the app has reached in the channel's stream (null for channels without history):
   * keep it to resume later with `subscribe({since})`.
   */
  get position(): StreamPosition | null {
    return this.#control.position;
  }

  /**
   * `message` (each publication once, in order), `subscribed` (every confirmation, with `recovered`),
   * `resync` (publications were missed for good: reload state), `join`, `leave`, `unsubscribed`.
   * Returns a function that removes the listener.
   */
  on<K extends keyof SubscriptionEvents>(type: K, listener: (payload: SubscriptionEvents[K]) => void): () => void {
    return this.#control.on(type, listener);
  }

  /**
   * Subscribes (now, or at the next `auth.ok`) and resolves once the server confirmed. While it is
   * wanted, the client subscribes again after every reconnect, from the position it had reached.
   * Rejects with `server_error` (see `serverCode`: `forbidden`, …) when refused, `unsubscribed` when
   * `unsubscribe()` came first, or the client's end.
   */
  subscribe(options: SubscribeOptions = {}): Promise<Subscribed> {
    return this.#control.subscribe(options);
  }

  /** Stops the subscription and forgets its position; listeners stay. */
  unsubscribe(): Promise<void> {
    return this.#control.unsubscribe();
  }

  /** Resolves with the publication's position once the server stored it (null for channels without history). */
  publish(data: unknown): Promise<StreamPosition | null> {
    return this.#queries.publish(this.channel, data);
  }

  history(options?: HistoryOptions): Promise<HistoryPage> {
    return this.#queries.history(this.channel, options);
  }

  presence(): Promise<PresenceResult> {
    return this.#queries.presence(this.channel);
  }

  presenceStats(): Promise<PresenceStats> {
    return this.#queries.presenceStats(this.channel);
  }
}
