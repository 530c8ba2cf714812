/** The auth service's options, their defaults, and the checks that fail fast on a bad one. */
import type { Context, Hono } from 'hono';
import { createOriginGuard, type OriginGuard } from '../core/admission/origin-guard.ts';
import { type Logger, silentLogger } from '../logging/logger.ts';
import type { SessionStore } from './session-store.ts';
import type { TicketStore } from './ticket-store.ts';
import type { RateSpec } from '../core/token-bucket.ts';
import type { VerifyRequest } from '../auth/verifier.ts';
import type { VerifyOutcome } from './tickets.ts';
import { sha256, type Sha256 } from './crypto.ts';

export interface AuthServiceOptions {
  /** username -> password (demo users). */
  users: ReadonlyMap<string, string>;
  /** Shared secret the gateway presents as `Authorization: Bearer …` on /auth/verify. */
  verifySecret: string;
  tickets: TicketStore;
  sessions: SessionStore;
  /** Ticket lifetime. Default 30 s. */
  ticketTtlMs?: number;
  /**
   * Idle timeout of a login session: it ends this long after login or after its latest ticket
   * request (each one slides the end forward), but never later than `sessionMaxAgeMs` after
   * login. Default 30 min. At most `sessionMaxAgeMs`.
   */
  sessionTtlMs?: number;
  /** Absolute lifetime of a login session, counted from login (and the cookie's Max-Age). Default 8 h; at most 400 days (cookie limit). */
  sessionMaxAgeMs?: number;
  /**
   * Host and Origin checks for the routes that change state (login, ticket, logout): pass
   * `admission.origins`, so a page that may not open the socket is refused a ticket too (403
   * origin_not_allowed), and a foreign Host gets 421. Default: only the page's own origin, on an
   * IP-literal or `localhost` Host (`createOriginGuard({ allowedOrigins: 'self', allowMissingOrigin: true })`).
   */
  origins?: OriginGuard;
  /** True under TLS: the cookie gets Secure and the `__Host-` prefix. Default false. */
  secureCookies?: boolean;
  /** Default true: verify rejects when both IPs are known and differ. */
  bindTicketToIp?: boolean;
  /** Runtime-specific client IP lookup. Default () => null. */
  clientIp?: (c: Context) => string | null;
  logger?: Logger;
  now?: () => number;
  /** SHA-256 of the session tokens (their sids): the runtime's native hash where the server has one. Default @noble/hashes. */
  sha256?: Sha256;
  /** Largest accepted request body. Default 4096 bytes. */
  maxBodyBytes?: number;
  /**
   * Password attempts (login and Basic auth), limited per client IP and, separately, per
   * username; then 429 too_many_attempts. Default 0.2/s with a burst of 10.
   */
  loginRate?: RateSpec;
  /** Tickets per login session (Basic auth: per username); then 429 too_many_tickets. Default 1/s, burst 20. */
  ticketRate?: RateSpec;
  /** Extra claims returned by verify. Default () => ({}). */
  claimsFor?: (sub: string) => Record<string, unknown>;
  /**
   * Called after a session ends through /auth/logout or `logout()`, so the server can close the
   * sockets that session authorised (they carry the same `sid` from verify). Must not throw.
   */
  onLogout?: (event: { sid: string; sub: string | null }) => void;
}

export interface AuthService {
  app: Hono;
  /** Ends a session; returns whether it existed. */
  logout(sid: string): Promise<boolean>;
  /** The verify endpoint's logic for an in-process caller: no HTTP round trip (and no secret to present). */
  verify(request: VerifyRequest): Promise<VerifyOutcome>;
}

export const AUTH_SERVICE_DEFAULTS = {
  ticketTtlMs: 30_000,
  sessionTtlMs: 30 * 60 * 1000,
  sessionMaxAgeMs: 8 * 60 * 60 * 1000,
  secureCookies: false,
  bindTicketToIp: true,
  maxBodyBytes: 4096,
  loginRate: { perSecond: 0.2, burst: 10 },
  ticketRate: { perSecond: 1, burst: 20 },
} as const;

export type ResolvedOptions = Required<Omit<AuthServiceOptions, 'onLogout'>> & Pick<AuthServiceOptions, 'onLogout'>;

const MAX_COOKIE_AGE_MS = 400 * 24 * 60 * 60 * 1000;

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new Error(`auth service: ${name} must be a positive integer (at most ${max})`);
  }
  return value;
}

function rateSpec(name: string, value: RateSpec): RateSpec {
  const { perSecond, burst } = value;
  if (!(Number.isFinite(perSecond) && perSecond > 0 && Number.isFinite(burst) && burst >= 1)) {
    throw new Error(`auth service: ${name} needs perSecond > 0 and burst >= 1`);
  }
  return { perSecond, burst };
}

/** Fills defaults and fails fast, naming the bad option (never echoing its value). */
export function resolveOptions(options: AuthServiceOptions): ResolvedOptions {
  const secret = options.verifySecret;
  // No whitespace: it could not be presented intact in `Authorization: Bearer <secret>`.
  if (typeof secret !== 'string' || secret.length === 0 || /\s/.test(secret)) {
    throw new Error('auth service: verifySecret must be a non-empty string without whitespace');
  }
  const d = AUTH_SERVICE_DEFAULTS;
  const sessionMaxAgeMs = positiveInt('sessionMaxAgeMs', options.sessionMaxAgeMs ?? d.sessionMaxAgeMs, MAX_COOKIE_AGE_MS);
  const sessionTtlMs = positiveInt('sessionTtlMs', options.sessionTtlMs ?? d.sessionTtlMs, sessionMaxAgeMs);
  return {
    users: options.users,
    verifySecret: options.verifySecret,
    tickets: options.tickets,
    sessions: options.sessions,
    ticketTtlMs: positiveInt('ticketTtlMs', options.ticketTtlMs ?? d.ticketTtlMs),
    sessionTtlMs,
    sessionMaxAgeMs,
    origins: options.origins ?? createOriginGuard({ allowedOrigins: 'self', allowMissingOrigin: true }),
    secureCookies: options.secureCookies ?? d.secureCookies,
    bindTicketToIp: options.bindTicketToIp ?? d.bindTicketToIp,
    clientIp: options.clientIp ?? (() => null),
    logger: options.logger ?? silentLogger,
    now: options.now ?? Date.now,
    sha256: options.sha256 ?? sha256,
    maxBodyBytes: positiveInt('maxBodyBytes', options.maxBodyBytes ?? d.maxBodyBytes),
    loginRate: rateSpec('loginRate', options.loginRate ?? d.loginRate),
    ticketRate: rateSpec('ticketRate', options.ticketRate ?? d.ticketRate),
    claimsFor: options.claimsFor ?? (() => ({})),
    onLogout: options.onLogout,
  };
}
