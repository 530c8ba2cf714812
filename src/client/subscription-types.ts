/** Public types of channel subscriptions: positions, deliveries, recovery, history and presence. */

/**
 * Where a channel's stream is: `offset` counts its publications (1, 2, 3, …), `epoch` names one
 * unbroken life of the stream (offsets of two epochs never compare). Only channels in namespaces
 * with history have one.
 */
export interface StreamPosition {
  readonly offset: number;
  readonly epoch: string;
}

/** A channel delivery's metadata. */
export interface Delivery {
  readonly channel: string;
  /** The publisher's `sub`. */
  readonly from: string;
  /** Where the publication is in the channel's stream (namespaces with history only). */
  readonly offset?: number;
  readonly epoch?: string;
  /**
   * True when it was missed while the connection was down (replayed on resubscribe) or in a gap the
   * client filled from history; false for a live delivery.
   */
  readonly recovered: boolean;
}

/** A publication handed to the app: each offset at most once, in offset order. */
export interface Publication extends Delivery {
  readonly data: unknown;
}

export type ChannelHandler = (data: unknown, delivery: Delivery) => void;

export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed';

export interface SubscribeOptions {
  /**
   * Start from this position (one the app kept from an earlier `position`, e.g. across a page
   * load): everything published after it is delivered first, marked `recovered`, or a `resync`
   * says why that was not possible. It applies when the subscription starts; a subscription that
   * is already subscribing or subscribed goes on from its own position.
   */
  readonly since?: StreamPosition;
}

/** The server confirmed a subscribe: the first one, and again after every reconnect. */
export interface Subscribed {
  readonly channel: string;
  /** The position the subscription continues from; null for channels without history. */
  readonly position: StreamPosition | null;
  /** The subscribe asked to recover from a known position (after a reconnect, or `since`). */
  readonly wasRecovering: boolean;
  /** Everything published since that position was delivered (or is being delivered, in order). */
  readonly recovered: boolean;
}

/**
 * Why the client could not hand the app every publication:
 * - `stream_reset`: the channel's stream lost its data (a new epoch);
 * - `history_exhausted`: the history no longer reaches back to the client's position;
 * - `recovery_disabled`: the channel's namespace does not recover (it keeps no replay for reconnects);
 * - `gap_too_large`: more was missed than the client fills from history (`maxGapFill`);
 * - `gap_fill_failed`: the history request for a gap failed (see the client's `error` event).
 */
export type ResyncReason = 'stream_reset' | 'history_exhausted' | 'recovery_disabled' | 'gap_too_large' | 'gap_fill_failed';

/** Publications may have been missed and cannot be delivered: reload the channel's state from the app. */
export interface Resync {
  readonly channel: string;
  readonly reason: ResyncReason;
}

/** A subscriber came or went (namespaces with join/leave events). */
export interface PresenceChange {
  readonly channel: string;
  readonly sub: string;
  /** The connection's id: one user may be subscribed from several connections. */
  readonly conn: string;
}

export interface SubscriptionEvents {
  message: Publication;
  subscribed: Subscribed;
  resync: Resync;
  join: PresenceChange;
  leave: PresenceChange;
  /** The subscription ended: `unsubscribe()`, the client closed, or the server refused it (`error`). */
  unsubscribed: { readonly channel: string; readonly error?: Error };
}

export interface HistoryOptions {
  /** Publications after this position; without it, from the oldest the server keeps. */
  readonly since?: StreamPosition;
  /** At most this many (1..1000; the server's default is 100). */
  readonly limit?: number;
}

export interface HistoryPublication {
  readonly data: unknown;
  readonly from: string;
  readonly offset: number;
  readonly epoch: string;
}

export interface HistoryPage {
  readonly channel: string;
  /** Ascending by offset. */
  readonly publications: readonly HistoryPublication[];
  /** The stream's current position when the page was read. */
  readonly position: StreamPosition;
  /** False when the history no longer reaches back to `since` or its epoch differs (then `publications` is empty). */
  readonly complete: boolean;
}

export interface PresenceClient {
  readonly sub: string;
  readonly conn: string;
  /** Claims the auth service marked public, when there are any. */
  readonly info?: Readonly<Record<string, unknown>>;
}

export interface PresenceResult {
  readonly channel: string;
  /** At most 1000 listed. */
  readonly clients: readonly PresenceClient[];
  /** How many there are in all. */
  readonly total: number;
}

export interface PresenceStats {
  readonly channel: string;
  readonly connections: number;
  readonly users: number;
}
