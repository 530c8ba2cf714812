/**
 * Getting a ticket: what `getTicket` may return, the typed error it may throw, and `fetchTicket`,
 * which asks a hardened-ws ticket endpoint the way it must be asked (POST, JSON body) and turns
 * its answer into one of those two.
 */

/** A ticket and, when the endpoint says so, the end of the session it belongs to. */
export interface TicketGrant {
  readonly ticket: string;
  /**
   * The login session's end in epoch seconds, as the ticket endpoint reported it. It lets the
   * client skip a refresh that cannot extend the session, and tell a session that ended from one
   * that lives on.
   */
  readonly sessionExp?: number;
  /** How long the ticket stays valid, in seconds. */
  readonly expiresIn?: number;
}

/** A server error code worth passing on: short snake_case only, never free text from a body. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The ticket endpoint said no. Throw it from your own `getTicket` too: status 401 makes the client
 * stop as logged out, 403 stops it as refused (e.g. `origin_not_allowed`); anything else is retried
 * with backoff, after `retryAfterMs` when set.
 */
export class TicketError extends Error {
  override readonly name = 'TicketError';
  /** The HTTP status (401, 403, 429, 503, …). */
  readonly status: number;
  /** The endpoint's `{"error"}` code, e.g. `unauthorized` or `origin_not_allowed`; null if none. */
  readonly code: string | null;
  readonly retryAfterMs?: number;

  constructor(status: number, code: string | null, retryAfterMs?: number) {
    super(`ticket request refused: HTTP ${status}${code !== null ? ` ${code}` : ''}`);
    this.status = status;
    this.code = code !== null && ERROR_CODE.test(code) ? code : null;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/**
 * POSTs `{}` as JSON to the ticket endpoint (the session cookie goes along on the same origin;
 * pass `init` for anything else, e.g. `credentials: 'include'` or an `authorization` header) and
 * resolves with the grant. Rejects with a TicketError for a non-2xx answer, with the fetch's own
 * error when the network failed.
 */
export async function fetchTicket(url: string | URL, init: RequestInit = {}): Promise<TicketGrant> {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...init, method: 'POST', headers, body: '{}' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new TicketError(res.status, errorCodeOf(body), retryAfterMsOf(res.headers.get('retry-after')));
  const grant = grantOf(body);
  if (grant === null) throw new TypeError('the ticket endpoint answered without a ticket');
  return grant;
}

/** What a `getTicket` returned, as a grant; null when it is neither a ticket string nor a grant. */
export function grantOf(value: unknown): TicketGrant | null {
  if (typeof value === 'string') return value.length > 0 ? { ticket: value } : null;
  if (typeof value !== 'object' || value === null) return null;
  const { ticket, sessionExp, expiresIn } = value as Record<string, unknown>;
  if (typeof ticket !== 'string' || ticket.length === 0) return null;
  return {
    ticket,
    ...(isSeconds(sessionExp) ? { sessionExp } : {}),
    ...(isSeconds(expiresIn) ? { expiresIn } : {}),
  };
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function errorCodeOf(body: unknown): string | null {
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : null;
}

/** `Retry-After` in seconds (the only form our endpoints send), as milliseconds. */
function retryAfterMsOf(header: string | null): number | undefined {
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
