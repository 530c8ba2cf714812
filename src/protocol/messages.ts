/** Wire messages. Every frame is a JSON object with a string `type`. */

/** A frame as it came off the socket, before any interpretation. */
export type Frame =
  { readonly kind: 'text'; readonly data: string; readonly bytes: number } | { readonly kind: 'binary'; readonly bytes: number };

/** A parsed client message after authentication; handlers receive this. */
export interface InboundMessage {
  readonly type: string;
  /** Correlation id echoed in replies; a string or a number, when present. */
  readonly id?: string | number;
  readonly [field: string]: unknown;
}

/** Error codes carried by `{"type":"error","id","code"}` replies. */
export type ErrorReplyCode =
  | 'invalid_json'
  | 'invalid_message'
  | 'unknown_type'
  | 'binary_unsupported'
  | 'handler_failed'
  | 'refresh_in_progress'
  | 'refresh_rejected'
  | 'refresh_unavailable'
  | 'invalid_channel'
  | 'forbidden'
  | 'too_many_channels'
  | 'unavailable'
  | 'invalid_position'
  | 'invalid_limit'
  | 'history_disabled'
  | 'recovery_disabled'
  | 'presence_disabled'
  /** The application's backend (a hook) could not answer: down, too slow, failing, or its breaker is open. */
  | 'backend_unavailable'
  /** The application's backend answered an rpc with an error of its own (`reason`, `message`). */
  | 'rpc_error'
  /** Too many rpc calls on this connection (`retryAfterMs`); the socket stays open. */
  | 'rate_limited';

export interface AuthOkMessage {
  readonly type: 'auth.ok';
  readonly sub: string;
  readonly exp: number;
}

export interface ErrorReply {
  readonly type: 'error';
  readonly id?: string | number;
  readonly code: ErrorReplyCode;
  /** The application's own code, where its backend gave one (`forbidden` by a hook, `rpc_error`). */
  readonly reason?: string;
  /** The application's own words, where its backend gave them. */
  readonly message?: string;
  /** When to try again (`rate_limited`, `backend_unavailable` with an open breaker). */
  readonly retryAfterMs?: number;
}

export type OutboundMessage = AuthOkMessage | ErrorReply | { readonly type: string; readonly [field: string]: unknown };
