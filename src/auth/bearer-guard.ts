/**
 * One bearer-token check for the server-to-server endpoints (the auth service's /auth/verify, the
 * admin API, /metrics on the main port, the server API): Hono's bearerAuth for the header's syntax
 * and the answer, with our own constant-time comparison. The configured tokens are hashed once
 * (SHA-256, @noble/hashes); a presented token is hashed and compared with every one of them by an
 * XOR loop over the digests, so the time depends neither on the token's content nor on which, if
 * any, matched. (Hono's own comparison hashes both sides with WebCrypto on every request: on Node
 * that was about 130 µs of CPU per server API call, over a third of it.) Every refusal — no header,
 * a malformed one, a wrong token — is the same 401, reported to `onDenied` (for the audit line)
 * without the token.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';

const encoder = new TextEncoder();

export function bearerGuard(
  tokens: string | readonly string[],
  onDenied: (c: Context) => void,
  /** The 401's JSON body; default `{"error":"unauthorized"}`. */
  body: object = { error: 'unauthorized' },
): MiddlewareHandler {
  const digests = (typeof tokens === 'string' ? [tokens] : [...tokens]).map((token) => sha256(encoder.encode(token)));
  if (digests.length === 0) throw new RangeError('bearerGuard: at least one token');
  const deny = (c: Context) => {
    onDenied(c);
    return c.json(body, 401, { 'WWW-Authenticate': 'Bearer' });
  };
  return bearerAuth({
    verifyToken: (presented) => matchesAny(sha256(encoder.encode(presented)), digests),
    noAuthenticationHeader: { message: deny },
    invalidAuthenticationHeader: { message: deny },
    invalidToken: { message: deny },
  });
}

/** Whether `digest` equals one of `digests`, looking at every byte of every one. */
function matchesAny(digest: Uint8Array, digests: readonly Uint8Array[]): boolean {
  let found = 0;
  for (const expected of digests) {
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= (digest[i] as number) ^ (expected[i] as number);
    found |= diff === 0 ? 1 : 0;
  }
  return found === 1;
}
