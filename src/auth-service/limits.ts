/**
 * Brute-force limits of the auth service: password attempts per client IP and per username,
 * tickets per session. Checked before any password is hashed, so a locked-out client learns
 * nothing and costs no CPU. Memory is bounded by KeyedRateLimiter's maxKeys.
 */
import { KeyedRateLimiter, type RateSpec } from '../limits/token-bucket.ts';

export type LimitName = 'login_ip' | 'login_user' | 'ticket_session';

export type Admission = { readonly ok: true } | { readonly ok: false; readonly limit: LimitName; readonly retryAfterMs: number };

export interface AuthLimits {
  /** Call before every password check (login form or Basic auth); consumes tokens. */
  admitPasswordAttempt(ip: string | null, username: string, now: number): Admission;
  /** Call after a password check succeeded: the username's failure budget starts afresh. */
  passwordAccepted(username: string): void;
  /** Call before issuing a ticket; `key` names the session (or the Basic-auth user). */
  admitTicket(key: string, now: number): Admission;
}

export function createAuthLimits(spec: { loginRate: RateSpec; ticketRate: RateSpec }): AuthLimits {
  const perIp = new KeyedRateLimiter(spec.loginRate);
  const perUser = new KeyedRateLimiter(spec.loginRate);
  const perSession = new KeyedRateLimiter(spec.ticketRate);
  /**
   * Per username only *failed* attempts should count, so a shared account that logs in often
   * is not throttled by its own successes. The limiter has no peek/refund, and the check must
   * come before the password is known, so every attempt takes a token from the bucket of the
   * user's current generation, and a success moves the user to a fresh generation (a new,
   * full bucket). Net effect: the budget counts failures since the last successful login.
   * Only successful logins add entries here, so the map is bounded by the number of real users.
   * An attacker can still drain a real user's bucket; it refills at the configured rate and
   * the answer is the same 429 whether or not the password was right, so nothing leaks and the
   * lock-out lasts at most burst/rate seconds after the attack stops.
   */
  const generations = new Map<string, number>();
  const userKey = (username: string) => {
    const user = username.toLowerCase();
    return `${generations.get(user) ?? 0}:${user}`;
  };

  return {
    admitPasswordAttempt(ip, username, now) {
      // Per IP every attempt counts, successes too: credential stuffing succeeds now and then.
      // An unknown IP (no clientIp configured) is not limited per IP: one shared bucket would
      // let anyone lock everyone out; the per-username limit still applies.
      if (ip !== null) {
        const byIp = perIp.take(ip, now);
        if (!byIp.ok) return { ok: false, limit: 'login_ip', retryAfterMs: byIp.retryAfterMs };
      }
      // Checked only after the IP passed, so an IP that is already refused cannot keep a
      // victim's username bucket empty.
      const byUser = perUser.take(userKey(username), now);
      if (!byUser.ok) return { ok: false, limit: 'login_user', retryAfterMs: byUser.retryAfterMs };
      return { ok: true };
    },
    passwordAccepted(username) {
      const user = username.toLowerCase();
      generations.set(user, (generations.get(user) ?? 0) + 1);
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
