/**
 * Every failure the SDK reports is a ClientError with a stable `code`. Messages are fixed text
 * written here: they never include a ticket, a frame's content or an app error's message (which
 * could carry anything), so they are safe to show and to log.
 */
export type ClientErrorCode =
  /** `send`/`request` while the bounded pre-auth queue is full. */
  | 'queue_full'
  /** The client was closed (by `close()`, a terminal close code or logout). */
  | 'closed'
  /** No reply within `requestTimeoutMs`. */
  | 'timeout'
  /** The socket carrying a request closed before its reply arrived. */
  | 'connection_lost'
  /** The server answered `{"type":"error","code"}`; see `serverCode`. */
  | 'server_error'
  /** getTicket failed with a 401-type error: the login session is gone. */
  | 'logged_out'
  /** The session reached its end (4410, or a 401 once its exp had passed); log in again. */
  | 'session_expired'
  /** getTicket failed with a 403: this client may not have a ticket (`serverCode`, e.g. `origin_not_allowed`). */
  | 'ticket_refused'
  /** getTicket failed (network, 429, 503, …) or returned something that is not a ticket. */
  | 'ticket_failed'
  /** The message could not be serialised as a JSON object, or a channel name is not a string. */
  | 'invalid_message'
  /** The WebSocket implementation refused the URL. */
  | 'invalid_url'
  /** The operation needs an open connection (refresh) and there is none right now. */
  | 'not_connected'
  /** The server's answer to a history or presence request does not have the documented shape. */
  | 'invalid_reply'
  /** `subscribe()` was still waiting when the subscription was ended by `unsubscribe()`. */
  | 'unsubscribed';

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** For `server_error` and `ticket_refused`: the server's error code, e.g. `forbidden` or `origin_not_allowed`. */
  readonly serverCode?: string;

  constructor(code: ClientErrorCode, message: string, serverCode?: string) {
    super(message);
    this.code = code;
    if (serverCode !== undefined) this.serverCode = serverCode;
  }
}

/**
 * True when getTicket's error means "logged out": `status`/`statusCode` 401, or a `code` of
 * `unauthorized`/`logged_out`. The app signals it this way; the SDK then stops reconnecting.
 */
export function isLoggedOut(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown };
  return e.status === 401 || e.statusCode === 401 || e.code === 'unauthorized' || e.code === 'logged_out';
}

/**
 * True when getTicket's error is a refusal that no retry will change: `status`/`statusCode` 403
 * (e.g. the endpoint's `origin_not_allowed`). The SDK then stops instead of spending a ticket
 * request per attempt forever.
 */
export function isRefused(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; statusCode?: unknown };
  return e.status === 403 || e.statusCode === 403;
}

/** The server's error code a getTicket error carries (a TicketError's `code`), if it looks like one. */
export function serverCodeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : undefined;
}

/** The session reached its end (4410, or a ticket answer that says so): log in again. */
export function sessionExpired(): ClientError {
  return new ClientError('session_expired', 'the session expired; log in again to reconnect');
}

/**
 * What a getTicket error means: the end of this client (`logged_out`; `session_expired` when it is
 * a 401 after the session's known end; `ticket_refused` for a 403) or `ticket_failed`, which is
 * worth a retry. The app's error message is never copied: it could say anything.
 */
export function ticketFailure(error: unknown, sessionOver: boolean): ClientError {
  if (isLoggedOut(error)) {
    return sessionOver ? sessionExpired() : new ClientError('logged_out', 'getTicket reported that the user is logged out (401)');
  }
  if (isRefused(error)) {
    const code = serverCodeOf(error);
    return new ClientError('ticket_refused', `getTicket was refused (403${code !== undefined ? ` ${code}` : ''})`, code);
  }
  return new ClientError('ticket_failed', 'getTicket failed');
}

/** A server-suggested wait on a getTicket error (`retryAfterMs`, e.g. from a 429's Retry-After), if any. */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
