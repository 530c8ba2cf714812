/**
 * One bearer-token check for the server-to-server endpoints (the auth service's /auth/verify, the
 * admin API, /metrics on the main port, the server API): Hono's bearerAuth, which compares in constant time (hashes
 * of both, then a timing-safe compare) and takes several tokens for rotation. Every refusal —
 * no header, a malformed one, a wrong token — is the same 401, and is reported to `onDenied`
 * (for the audit line) without the token.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';

export function bearerGuard(
  tokens: string | readonly string[],
  onDenied: (c: Context) => void,
  /** The 401's JSON body; default `{"error":"unauthorized"}`. */
  body: object = { error: 'unauthorized' },
): MiddlewareHandler {
  const deny = (c: Context) => {
    onDenied(c);
    return c.json(body, 401, { 'WWW-Authenticate': 'Bearer' });
  };
  return bearerAuth({
    token: typeof tokens === 'string' ? tokens : [...tokens],
    noAuthenticationHeader: { message: deny },
    invalidAuthenticationHeader: { message: deny },
    invalidToken: { message: deny },
  });
}
