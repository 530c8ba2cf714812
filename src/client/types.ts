/** Public types of the client SDK. Web-standard only: this code runs in browsers, Node, Bun and Deno. */
import type { RetryClass } from '../protocol/close-codes.ts';
import type { TicketGrant } from './ticket.ts';

export type ClientState = 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'closed';

/** The part of the WebSocket API the SDK uses; the browser's, undici's and `ws`'s all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // One overload per event, each taking the fields the SDK reads: the browser's WebSocket and
  // `ws`'s (whose addEventListener is generic over its event map) both fit without a cast.
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Timers and time, injectable so tests can run on a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Any logger with these methods (console, pino, …). The SDK never passes it a ticket. */
export interface ClientLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}

export interface ConnectOptions {
  /** `ws://…/ws` or `wss://…/ws`. */
  readonly url: string;
  /**
   * Returns a fresh single-use ticket, as a string or as `{ticket, sessionExp}` (what `fetchTicket`
   * resolves with); called before every connection attempt and every refresh. With `sessionExp`
   * the client skips refreshes that cannot extend the session and knows when it truly ended.
   * Throw an error with `status: 401` when the user is logged out and `status: 403` when this
   * client may not have a ticket (a `TicketError` does both): the client then stops.
   */
  readonly getTicket: () => Promise<string | TicketGrant>;
  /** A WebSocket implementation where there is no global one (Node 20: `ws`'s WebSocket). */
  readonly WebSocket?: WebSocketConstructor;
  /** Reconnect backoff: each wait is random in [0, min(maxMs, minMs·2^n)]. Default 500 ms → 30 s. */
  readonly backoff?: { readonly minMs?: number; readonly maxMs?: number };
  /** Messages held until `auth.ok` (default 100); beyond it `send` throws `queue_full`. */
  readonly maxPendingSends?: number;
  /** Default timeout of `request` (default 10 s). */
  readonly requestTimeoutMs?: number;
  /**
   * If the server has not sent `session.expiring` by this long before `exp`, refresh anyway
   * (default 10 s; the server's warning comes 60 s before by default and normally triggers it).
   */
  readonly refreshBeforeMs?: number;
  /** Give up on an attempt that is not authenticated within this (default 15 s); then back off. */
  readonly connectTimeoutMs?: number;
  /**
   * The most publications the client reads from history to fill one gap it noticed in a channel's
   * offsets (default 1000, in pages of 100); a larger gap is a `resync` instead. 0: never fill.
   */
  readonly maxGapFill?: number;
  readonly onStateChange?: (state: ClientState, previous: ClientState) => void;
  readonly logger?: ClientLogger;
  /** For tests: time and timers (default the global ones) and the jitter source (default Math.random). */
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** A socket end as the client saw it, with the retry class from the protocol's table. */
export interface CloseDetails {
  readonly code: number;
  /** The reason text without any `; retry-after-ms=` hint. */
  readonly reason: string;
  /** Human meaning of the code (from the protocol's table, or a generic text). */
  readonly meaning: string;
  readonly retry: RetryClass;
  /** The server's `retry-after-ms` hint, when the reason carried one. */
  readonly retryAfterMs?: number;
  /** Whether this page/program closed it (`close()`). */
  readonly byClient: boolean;
}

export interface ClientEvents {
  state: { readonly state: ClientState; readonly previous: ClientState };
  /** auth.ok: the identity and the session end (epoch seconds). */
  open: { readonly sub: string; readonly exp: number };
  /** A socket ended; `reconnectInMs` is null when the client stops. */
  close: CloseDetails & { readonly reconnectInMs: number | null };
  /** Any server message that is not a reply to a request or a channel delivery. */
  message: Readonly<Record<string, unknown>>;
  /**
   * The session's end: the server warned it is near (`expiring`), a refresh moved it (`refreshed`),
   * a refresh found it cannot move any more (`final`: the socket will close at exp), or it came
   * (`expired`: the client stopped; log in again).
   */
  session: { readonly kind: 'expiring' | 'refreshed' | 'final' | 'expired'; readonly exp: number | null; readonly inMs?: number };
  /**
   * Something went wrong that has no caller to reject (getTicket failed, a resubscribe was
   * refused), including the terminal `logged_out` and `ticket_refused`.
   */
  error: { readonly error: Error };
}

/** An outgoing message: a JSON object with a `type`. */
export interface OutgoingMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A reply to a request (the server's message with the same `id`). */
export type Reply = Readonly<Record<string, unknown>> & { readonly type: string };
