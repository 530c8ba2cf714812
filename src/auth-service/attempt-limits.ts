/**
 * Brute-force limits of the auth service: password attempts per client IP and per username,
 * tickets per session. Checked before any password is hashed, so a refused client learns nothing
 * and costs no CPU. Memory is bounded (KeyedRateLimiter's and ExpiringMap's caps).
 *
 * The design (docs/security.md, "Password guessing"): every attempt counts against its client IP;
 * failures count against the username too, but that per-username ceiling only holds back
 * addresses that have themselves failed for that username recently. So an attacker spraying one
 * account from many addresses cannot lock its owner out: the owner's address has not been
 * failing, and the right password from it still works. The attacker gets one guess per fresh
 * address per FAILURE_MEMORY_MS once the ceiling is spent, on top of the per-IP rate.
 */
import { KeyedRateLimiter, type RateSpec } from '../core/token-bucket.ts';
import { ExpiringMap } from '../core/expiring-map.ts';

export type LimitName = 'login_ip' | 'login_user' | 'ticket_session';

export type Refusal = { readonly ok: false; readonly limit: LimitName; readonly retryAfterMs: number };
export type Admission = { readonly ok: true } | Refusal;

/** An admitted password attempt: report its outcome once the password was checked. */
export interface PasswordAttempt {
  readonly ok: true;
  settle(accepted: boolean): void;
}

export interface AuthLimits {
  /** Call before every password check (login form or Basic auth), then `settle` the attempt. */
  admitPasswordAttempt(ip: string | null, username: string, now: number): PasswordAttempt | Refusal;
  /** Call before issuing a ticket; `key` names the session (or the Basic-auth user). */
  admitTicket(key: string, now: number): Admission;
}

/** How long a failed attempt marks its (username, address) pair as failing. */
export const FAILURE_MEMORY_MS = 15 * 60 * 1000;
/** Failing pairs remembered at most; past it every unknown pair counts as failing (fails closed). */
const MAX_FAILING_PAIRS = 100_000;

export function createAuthLimits(spec: { loginRate: RateSpec; ticketRate: RateSpec; now: () => number }): AuthLimits {
  const perIp = new KeyedRateLimiter(spec.loginRate);
  const perUser = new KeyedRateLimiter(spec.loginRate);
  const perSession = new KeyedRateLimiter(spec.ticketRate);
  const failing = new ExpiringMap<{ exp: number }>('login failures', { now: spec.now, maxEntries: MAX_FAILING_PAIRS });
  let failingFull = false;

  const remember = (pair: string, now: number) => {
    try {
      failing.set(pair, { exp: now + FAILURE_MEMORY_MS });
      failingFull = false;
    } catch {
      failingFull = true; // store_full: unknown pairs are treated as failing until there is room
    }
  };

  return {
    admitPasswordAttempt(ip, username, now) {
      const user = username.toLowerCase();
      // Per IP every attempt counts, successes too: credential stuffing succeeds now and then.
      // An unknown IP (no clientIp configured) has no bucket: one shared bucket would let anyone
      // lock everyone out.
      if (ip !== null) {
        const byIp = perIp.take(ip, now);
        if (!byIp.ok) return { ok: false, limit: 'login_ip', retryAfterMs: byIp.retryAfterMs };
      }
      // IPs hold no spaces, so the pair key is unambiguous whatever the username holds.
      const pair = ip === null ? null : `${ip} ${user}`;
      // Without an IP nothing tells the owner apart from an attacker: the ceiling always applies.
      const held = pair === null || failing.get(pair) !== null || failingFull;
      // Taken before the password is known (there is no peek), given back when it was right.
      if (held) {
        const byUser = perUser.take(user, now);
        if (!byUser.ok) return { ok: false, limit: 'login_user', retryAfterMs: byUser.retryAfterMs };
      }
      return {
        ok: true,
        settle(accepted) {
          if (accepted) {
            if (held) perUser.refund(user);
            if (pair !== null) failing.delete(pair);
            return;
          }
          if (pair !== null) remember(pair, now);
          // A failure from a fresh address still spends the ceiling: it holds back the addresses that fail.
          if (!held) perUser.take(user, now);
        },
      };
    },
    admitTicket(key, now) {
      const taken = perSession.take(key, now);
      return taken.ok ? taken : { ok: false, limit: 'ticket_session', retryAfterMs: taken.retryAfterMs };
    },
  };
}

/** `Retry-After` is whole seconds; round up so a client that obeys it is not refused again. */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
}
