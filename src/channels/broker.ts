/**
 * Pub/sub between sockets, possibly on other instances. `memory` (one process, the default) and
 * `redis` implement it; one contract suite (test/contract/) runs against both.
 */
export interface BrokerMessage {
  readonly channel: string;
  readonly data: unknown;
  /** The publisher's `sub`. */
  readonly from: string;
}

export type Listener = (message: BrokerMessage) => void;

export interface Broker {
  /** Delivers to every subscriber of `channel` on every instance. Rejects when the broker is unavailable. */
  publish(message: BrokerMessage): Promise<void>;
  /**
   * Adds a local listener; resolves once messages published afterwards will reach it. Rejects when
   * the broker is unavailable. The returned function removes the listener (idempotent).
   * Subscriptions are kept across broker reconnects.
   */
  subscribe(channel: string, listener: Listener): Promise<() => void>;
  /** Whether the broker can currently publish and subscribe (readiness). */
  readonly healthy: boolean;
  close(): Promise<void>;
}
