/** Login sessions: the cookie (a secret token) and the sid the stores and the gateway see (its hash). */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { SessionRecord } from './session-store.ts';
import { randomToken, toBase64Url } from './crypto.ts';
import type { ResolvedOptions } from './options.ts';

export const SESSION_COOKIE = 'hws_session';

/** What startSession issues: 32 random bytes, base64url. Anything else cannot name a session. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The cookie carries a secret token; stores, tickets and the gateway only ever see
 * `sid = base64url(SHA-256(token))`. So a leaked store, log line or verify response cannot
 * be replayed as a cookie, and the sid is safe to hand to the gateway for logout fan-out.
 */
function sidOf(o: ResolvedOptions, token: string): string {
  return toBase64Url(o.sha256(token));
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

/**
 * Session ends fall on whole seconds, rounded down: clients see `exp` in epoch seconds (verify's
 * answer, auth.ok, the ticket's sessionExp), and a session that really ended up to a second
 * after its rounded `exp` kept issuing tickets the gateway then refused.
 */
export const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** Where a ticket request moves the session's end (the store caps it at the session's maxExp). */
export const slidingEnd = (o: ResolvedOptions): number => wholeSecond(o.now() + o.sessionTtlMs);

/** Starts a login session and sets its cookie, which lives as long as the session can. */
export async function startSession(o: ResolvedOptions, c: Context, sub: string): Promise<void> {
  const token = randomToken();
  const now = o.now();
  const maxExp = wholeSecond(now + o.sessionMaxAgeMs);
  await o.sessions.put(sidOf(o, token), { sub, exp: Math.min(slidingEnd(o), maxExp), maxExp });
  setCookie(c, SESSION_COOKIE, token, cookieOptions(o, Math.ceil((maxExp - now) / 1000)));
}

/** The sid the request's cookie names (whether or not the session still exists), or null. */
export function cookieSid(o: ResolvedOptions, c: Context): string | null {
  const token = getCookie(c, SESSION_COOKIE, o.secureCookies ? 'host' : undefined);
  if (token === undefined || !TOKEN.test(token)) return null;
  return sidOf(o, token);
}

/** The live session named by the request's cookie, or null. */
export async function currentSession(o: ResolvedOptions, c: Context): Promise<{ sid: string; record: SessionRecord } | null> {
  const sid = cookieSid(o, c);
  if (sid === null) return null;
  const record = await o.sessions.get(sid);
  // The store's own clock may differ from ours (tests, shared stores): check expiry here too.
  if (record === null || record.exp <= o.now()) return null;
  return { sid, record };
}

/**
 * The live session named by the request's cookie, its end slid forward by `sessionTtlMs` (capped
 * at its absolute end); null when there is none.
 */
export async function extendSession(o: ResolvedOptions, c: Context): Promise<{ sid: string; record: SessionRecord } | null> {
  const sid = cookieSid(o, c);
  if (sid === null) return null;
  const record = await o.sessions.extend(sid, slidingEnd(o));
  if (record === null || record.exp <= o.now()) return null;
  return { sid, record };
}

export function clearSessionCookie(o: ResolvedOptions, c: Context): void {
  setCookie(c, SESSION_COOKIE, '', cookieOptions(o, 0));
}

/**
 * Ends a session by its sid; returns whether its record still existed. The sockets it authorised
 * are revoked either way: the record may be gone (a Redis restart without persistence) while
 * sockets verified with it are still open.
 */
export async function endSession(o: ResolvedOptions, sid: string): Promise<boolean> {
  const record = await o.sessions.get(sid);
  await o.sessions.delete(sid);
  o.logger.info({ sub: record?.sub ?? null }, 'logout');
  try {
    o.onLogout?.({ sid, sub: record?.sub ?? null });
  } catch (err) {
    o.logger.error({ err: err instanceof Error ? err.name : 'unknown' }, 'logout.hook_failed');
  }
  return record !== null;
}
