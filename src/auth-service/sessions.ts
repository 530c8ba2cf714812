import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { SessionRecord } from '../store/session-store.ts';
import { randomToken, sha256, toBase64Url } from './crypto.ts';
import type { ResolvedOptions } from './options.ts';

export const SESSION_COOKIE = 'hws_session';

/** A random token is 43 base64url characters; anything much longer is not ours. */
const MAX_TOKEN_LENGTH = 128;

/**
 * The cookie carries a secret token; stores, tickets and the gateway only ever see
 * `sid = base64url(SHA-256(token))`. So a leaked store, log line or verify response cannot
 * be replayed as a cookie, and the sid is safe to hand to the gateway for logout fan-out.
 */
async function sidOf(token: string): Promise<string> {
  return toBase64Url(await sha256(token));
}

type CookieOptions = NonNullable<Parameters<typeof setCookie>[3]>;

function cookieOptions(o: ResolvedOptions, maxAgeSeconds: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: o.secureCookies,
    maxAge: maxAgeSeconds,
    // `__Host-` (Secure, Path=/, no Domain) stops a sibling subdomain from planting the cookie.
    ...(o.secureCookies ? { prefix: 'host' as const } : {}),
  };
}

/** Starts a login session and sets its cookie. */
export async function startSession(o: ResolvedOptions, c: Context, sub: string): Promise<void> {
  const token = randomToken();
  await o.sessions.put(await sidOf(token), { sub, exp: o.now() + o.sessionTtlMs });
  setCookie(c, SESSION_COOKIE, token, cookieOptions(o, Math.floor(o.sessionTtlMs / 1000)));
}

/** The live session named by the request's cookie, or null. */
export async function currentSession(
  o: ResolvedOptions,
  c: Context,
): Promise<{ sid: string; record: SessionRecord } | null> {
  const token = getCookie(c, SESSION_COOKIE, o.secureCookies ? 'host' : undefined);
  if (token === undefined || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
  const sid = await sidOf(token);
  const record = await o.sessions.get(sid);
  // The store's own clock may differ from ours (tests, shared stores): check expiry here too.
  if (record === null || record.exp <= o.now()) return null;
  return { sid, record };
}

export function clearSessionCookie(o: ResolvedOptions, c: Context): void {
  setCookie(c, SESSION_COOKIE, '', cookieOptions(o, 0));
}

/** Ends a session by its sid; returns whether it existed. */
export async function endSession(o: ResolvedOptions, sid: string): Promise<boolean> {
  const record = await o.sessions.get(sid);
  await o.sessions.delete(sid);
  if (record === null) return false;
  o.logger.info({ sub: record.sub }, 'logout');
  try {
    o.onLogout?.({ sid, sub: record.sub });
  } catch (err) {
    o.logger.error({ err: err instanceof Error ? err.name : 'unknown' }, 'logout.hook_failed');
  }
  return true;
}
