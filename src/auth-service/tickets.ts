/** Tickets: issuing one (bound to its session, Origin and IP) and consuming it once at verify. */
import type { SessionStore } from './session-store.ts';
import type { TicketStore } from './ticket-store.ts';
import { randomToken } from './crypto.ts';
import type { Logger } from '../logging/logger.ts';

/** Who a ticket is for, captured from the issuing request. */
export interface IssueInput {
  readonly sub: string;
  readonly origin: string | null;
  readonly ip: string | null;
  readonly sessionExp: number;
  /** Public session id (see sessions.ts); null for Basic-auth clients. */
  readonly sid: string | null;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface TicketDeps {
  readonly tickets: TicketStore;
  readonly sessions: SessionStore;
  readonly now: () => number;
  readonly ticketTtlMs: number;
  readonly bindTicketToIp: boolean;
}

/** `POST /auth/ticket`'s answer: seconds the ticket stays redeemable, and the session's end in epoch seconds. */
export interface IssuedTicket {
  ticket: string;
  expiresIn: number;
  sessionExp: number;
}

/**
 * A ticket never outlives its session: it lapses at the session's end if that comes first, so
 * no ticket is handed out that verify would then refuse as `session_ended`.
 */
export async function issueTicket(deps: TicketDeps, input: IssueInput): Promise<IssuedTicket> {
  const ticket = randomToken();
  const now = deps.now();
  const exp = Math.min(now + deps.ticketTtlMs, input.sessionExp);
  await deps.tickets.put(ticket, { ...input, exp });
  // Rounded down: a client that trusts expiresIn never presents a ticket that already lapsed, and
  // sessionExp is exactly the `exp` verify will answer for this ticket.
  return { ticket, expiresIn: Math.floor((exp - now) / 1000), sessionExp: Math.floor(input.sessionExp / 1000) };
}

export type RejectReason = 'unknown_ticket' | 'expired' | 'origin_mismatch' | 'ip_mismatch' | 'session_ended';

/** The verify response body. `exp` is the session end in epoch seconds (JWT convention). */
export interface VerifiedBody {
  sub: string;
  exp: number;
  sid: string | null;
  [claim: string]: unknown;
}

export type VerifyOutcome = { readonly ok: true; readonly body: VerifiedBody } | { readonly ok: false; readonly reason: RejectReason };

const RESERVED = new Set(['sub', 'exp', 'sid']);

/**
 * Consumes the ticket first (atomic take), then checks it: a ticket is single use even when a
 * check fails, so a stolen ticket cannot be probed against origins or IPs.
 */
export async function verifyTicket(
  deps: TicketDeps,
  request: { ticket: string; origin: string | null; ip: string | null },
): Promise<VerifyOutcome> {
  const record = await deps.tickets.take(request.ticket);
  if (record === null) return { ok: false, reason: 'unknown_ticket' };
  const now = deps.now();
  if (record.exp <= now) return { ok: false, reason: 'expired' };
  if (record.origin !== request.origin) return { ok: false, reason: 'origin_mismatch' };
  if (deps.bindTicketToIp && record.ip !== null && request.ip !== null && record.ip !== request.ip) {
    return { ok: false, reason: 'ip_mismatch' };
  }
  if (record.sessionExp <= now) return { ok: false, reason: 'session_ended' };
  if (record.sid !== null && (await deps.sessions.get(record.sid)) === null) {
    return { ok: false, reason: 'session_ended' };
  }
  // fromEntries defines own properties, so a `__proto__` claim stays data, not a prototype.
  const claims = Object.fromEntries(Object.entries(record.claims ?? {}).filter(([key]) => !RESERVED.has(key)));
  return {
    ok: true,
    body: { sub: record.sub, exp: Math.floor(record.sessionExp / 1000), sid: record.sid, ...claims },
  };
}

/**
 * verifyTicket plus the audit line every caller owes (`ticket.verify`: result and reason, never the
 * ticket). A rejection is logged at info; a success at debug, since the gateway that asked logs
 * `auth.ok` with the identity at info, and a second line per connect costs a large share of its CPU.
 */
export async function verifyTicketAudited(
  deps: TicketDeps & { readonly logger: Logger },
  request: { ticket: string; origin: string | null; ip: string | null },
): Promise<VerifyOutcome> {
  const outcome = await verifyTicket(deps, request);
  if (outcome.ok) deps.logger.debug({ result: 'ok', reason: null, sub: outcome.body.sub }, 'ticket.verify');
  else deps.logger.info({ result: 'rejected', reason: outcome.reason }, 'ticket.verify');
  return outcome;
}
