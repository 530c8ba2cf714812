/** The auth service's HTTP routes: login, ticket, session, verify and logout. */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { bearerGuard } from '../auth/bearer-guard.ts';
import { checkPassword, MAX_CREDENTIAL_LENGTH, parseBasicAuth } from './credentials.ts';
import { limitBody, readJson, requireJson } from '../core/json-body.ts';
import { createAuthLimits, retryAfterSeconds, type PasswordAttempt } from './attempt-limits.ts';
import { usernameForLog } from './log-names.ts';
import type { ResolvedOptions } from './options.ts';
import { clearSessionCookie, cookieSid, currentSession, endSession, extendSession, slidingEnd, startSession } from './sessions.ts';
import { issueTicket, verifyTicketAudited } from './tickets.ts';

const credential = z.string().min(1).max(MAX_CREDENTIAL_LENGTH);
const loginBody = z.object({ username: credential, password: z.string().max(MAX_CREDENTIAL_LENGTH) });
/** Ticket and logout take `{}`: a JSON object is what no cross-site form or simple request can send. */
const emptyBody = z.object({});
const verifyBody = z.object({
  ticket: z.string().min(1).max(2048),
  origin: z.string().max(2048).nullable(),
  ip: z.string().max(256).nullable(),
});

const POST_PATHS = ['/auth/login', '/auth/ticket', '/auth/verify', '/auth/logout'];

/** The Origin is attacker-chosen: log enough to investigate, not a megabyte. */
const MAX_LOGGED_ORIGIN = 256;

type Who = { sub: string; sid: string | null; sessionExp: number };

function tooMany(c: Context, error: 'too_many_attempts' | 'too_many_tickets', retryAfterMs: number): Response {
  return c.json({ error }, 429, { 'Retry-After': retryAfterSeconds(retryAfterMs) });
}

/** A full memory store or an unreachable Redis: the service cannot answer now (503, fails closed). */
function storeErrorCode(err: unknown): 'store_full' | 'unavailable' | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'store_full' || code === 'unavailable' ? code : null;
}

export function createRoutes(o: ResolvedOptions): Hono {
  const app = new Hono();
  const log = o.logger;
  const limits = createAuthLimits(o);
  const logName = usernameForLog(o.users);

  // Tickets, cookies and identities must never sit in a cache, so every answer says no-store.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Cache-Control', 'no-store');
  });

  // DNS rebinding: a Host that is not one of the server's names gets 421. /auth/verify is exempt:
  // it is server-to-server, reached under internal names, and guarded by its bearer secret.
  app.use('/auth/*', async (c, next) => {
    if (c.req.path !== '/auth/verify' && !o.origins.hostAllowed(c)) {
      log.warn({ reason: 'unknown_host', ip: o.clientIp(c) }, 'request.refused');
      return c.json({ error: 'unknown_host' }, 421);
    }
    await next();
  });

  /**
   * Routes that change state answer only pages the WebSocket admission would let open `/ws`
   * (same allowlist, same `self`, same rule for a missing Origin): a cross-site request cannot
   * log in, spend tickets or log out, and a disallowed page learns why instead of spending tickets
   * on sockets that would get 403.
   */
  const originAllowed: MiddlewareHandler = async (c, next) => {
    if (o.origins.checkOrigin(c) !== 'ok') {
      const origin = c.req.header('origin')?.slice(0, MAX_LOGGED_ORIGIN) ?? null;
      log.warn({ reason: 'origin_not_allowed', path: c.req.path, ip: o.clientIp(c), origin }, 'request.refused');
      return c.json({ error: 'origin_not_allowed' }, 403);
    }
    await next();
  };
  /** Origin, then a JSON object body within the size limit: what every state-changing route requires. */
  const guarded = [originAllowed, requireJson, limitBody(o.maxBodyBytes)] as const;

  app.post('/auth/login', ...guarded, async (c) => {
    const body = await readJson(c, loginBody, o.maxBodyBytes);
    if (!body.ok) return body.response;
    const { username, password } = body.value;
    const ip = o.clientIp(c);
    const attempt = admitPasswordAttempt(c, ip, username);
    if (attempt instanceof Response) return attempt;
    const accepted = await checkPassword(o.users, username, password);
    attempt.settle(accepted);
    if (!accepted) {
      log.warn({ ...logName(username), ip }, 'login.failed');
      return c.json({ error: 'invalid_credentials' }, 401);
    }
    await startSession(o, c, username);
    log.info({ sub: username, ip }, 'login.ok');
    return c.body(null, 204);
  });

  app.post('/auth/ticket', ...guarded, async (c) => {
    const body = await readJson(c, emptyBody, o.maxBodyBytes);
    if (!body.ok) return body.response;
    const ip = o.clientIp(c);
    const who = await authenticate(c, ip);
    if (who instanceof Response) return who;
    // Browsers are limited per login session; Basic-auth clients have none, so per user.
    const admission = limits.admitTicket(who.sid !== null ? `sid:${who.sid}` : `user:${who.sub.toLowerCase()}`, o.now());
    if (!admission.ok) {
      log.warn({ limit: admission.limit, sub: who.sub, ip }, 'limit.hit');
      return tooMany(c, 'too_many_tickets', admission.retryAfterMs);
    }
    const origin = c.req.header('origin') ?? null;
    const issued = await issueTicket(o, { ...who, origin, ip, claims: o.claimsFor(who.sub) });
    // Debug, not info: a line per connect is a large share of its CPU. The audit trail at info
    // keeps refusals here (limit.hit, login.failed), ticket.verify rejections, and the gateway's
    // auth.ok / auth.rejected.
    log.debug({ sub: who.sub, ip, origin }, 'ticket.issued');
    return c.json(issued, 201);
  });

  /** The cookie's live session, for a page that reloads: not extended (only a ticket request slides it). */
  app.get('/auth/session', async (c) => {
    const session = await currentSession(o, c);
    if (session === null) return c.json({ error: 'unauthorized' }, 401);
    return c.json({ sub: session.record.sub, exp: Math.floor(session.record.exp / 1000) }, 200);
  });

  /**
   * Session cookie first (browsers), then Basic auth (non-browser clients). A ticket request slides
   * the cookie's session forward. Basic auth checks a password, so it shares the login limits:
   * otherwise it would be a way around them.
   */
  async function authenticate(c: Context, ip: string | null): Promise<Who | Response> {
    const session = await extendSession(o, c);
    if (session !== null) {
      // In a session's last second a ticket could not be used (expiresIn 0): the session is over.
      if (session.record.exp - o.now() < 1000) return c.json({ error: 'unauthorized' }, 401);
      return { sub: session.record.sub, sid: session.sid, sessionExp: session.record.exp };
    }
    const basic = parseBasicAuth(c.req.header('authorization'));
    if (basic === null) return c.json({ error: 'unauthorized' }, 401);
    const attempt = admitPasswordAttempt(c, ip, basic.username);
    if (attempt instanceof Response) return attempt;
    const accepted = await checkPassword(o.users, basic.username, basic.password);
    attempt.settle(accepted);
    if (!accepted) {
      log.warn({ ...logName(basic.username), ip }, 'login.failed');
      return c.json({ error: 'unauthorized' }, 401);
    }
    // No login session: each Basic-auth ticket carries a session of sessionTtlMs from now.
    return { sub: basic.username, sid: null, sessionExp: slidingEnd(o) };
  }

  /** The admitted attempt (settle it with the outcome), or the 429, decided before any hashing. */
  function admitPasswordAttempt(c: Context, ip: string | null, username: string): PasswordAttempt | Response {
    const admission = limits.admitPasswordAttempt(ip, username, o.now());
    if (admission.ok) return admission;
    // Logged like login.failed: by name only when it names a user (it may be a mistyped password).
    log.warn({ limit: admission.limit, ip, ...logName(username) }, 'limit.hit');
    return tooMany(c, 'too_many_attempts', admission.retryAfterMs);
  }

  app.post(
    '/auth/verify',
    // Checked before the body is read: without the secret, nothing about tickets leaks.
    bearerGuard(o.verifySecret, (c) => log.warn({ ip: o.clientIp(c) }, 'verify.unauthorized')),
    requireJson,
    limitBody(o.maxBodyBytes),
    async (c) => {
      const body = await readJson(c, verifyBody, o.maxBodyBytes);
      if (!body.ok) return body.response;
      const outcome = await verifyTicketAudited(o, body.value);
      return outcome.ok ? c.json(outcome.body, 200) : c.json({ error: outcome.reason }, 401);
    },
  );

  // 204 whether or not the session still existed (not worth revealing); 503 if the store is down.
  app.post('/auth/logout', ...guarded, async (c) => {
    const body = await readJson(c, emptyBody, o.maxBodyBytes);
    if (!body.ok) return body.response;
    const sid = cookieSid(o, c);
    if (sid !== null) await endSession(o, sid);
    clearSessionCookie(o, c);
    return c.body(null, 204);
  });

  // Known paths answer 405 with Allow for any other method (incl. OPTIONS: there is no CORS, so
  // a cross-site JSON request never gets past its preflight); unknown paths stay Hono's 404.
  for (const path of POST_PATHS) {
    app.all(path, (c) => c.json({ error: 'method_not_allowed' }, 405, { Allow: 'POST' }));
  }
  app.all('/auth/session', (c) => c.json({ error: 'method_not_allowed' }, 405, { Allow: 'GET, HEAD' }));

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse(); // bearerGuard's 401
    const code = storeErrorCode(err);
    if (code !== null) {
      log.warn({ code }, 'auth.unavailable');
      return c.json({ error: 'unavailable' }, 503, { 'Retry-After': '2' });
    }
    // Name only: messages from third-party code could, in principle, carry request data.
    log.error({ err: err instanceof Error ? err.name : 'unknown' }, 'auth.error');
    return c.json({ error: 'internal' }, 500);
  });

  return app;
}
