import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createAuthService, parseDemoUsers } from '../../src/auth-service/index.ts';
import type { AuthServiceOptions } from '../../src/auth-service/index.ts';
import { createOriginGuard } from '../../src/core/admission/index.ts';
import { MemorySessionStore } from '../../src/backends/memory/session-store.ts';
import { MemoryTicketStore } from '../../src/backends/memory/ticket-store.ts';
import type { TicketStore } from '../../src/auth-service/ticket-store.ts';
import { spyLogger, type LogEntry } from '../support/spy-logger.ts';

const PASSWORD = 'correct-horse-battery-staple';
const SECRET = 'gateway-shared-secret-0123456789';
const ORIGIN = 'https://app.example';
const JSON_TYPE = { 'content-type': 'application/json' };
/** The server's own name in these tests: `app.request('/path')` addresses http://localhost. */
const SELF = 'http://localhost';
const origins = (allowMissingOrigin = true) =>
  createOriginGuard({ allowedOrigins: `self,${ORIGIN},http://x`, allowMissingOrigin, publicOrigins: SELF });

function setup(overrides: Partial<AuthServiceOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const logs: LogEntry[] = [];
  const ip = { value: '10.0.0.1' as string | null };
  const service = createAuthService({
    users: new Map([['alice', PASSWORD]]),
    verifySecret: SECRET,
    tickets: new MemoryTicketStore({ now }),
    sessions: new MemorySessionStore({ now }),
    now,
    logger: spyLogger(logs),
    clientIp: () => ip.value,
    origins: origins(),
    ...overrides,
  });
  const app = service.app;

  const post = (path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    app.request(path, { method: 'POST', body: init.body ?? null, headers: init.headers ?? {} });
  const login = (username = 'alice', password = PASSWORD) =>
    post('/auth/login', {
      body: JSON.stringify({ username, password }),
      headers: { 'content-type': 'application/json' },
    });
  const cookieOf = (res: Response) => {
    const header = res.headers.get('set-cookie') ?? '';
    return header.split(';', 1)[0] ?? '';
  };
  const ticketWith = (headers: Record<string, string>) => post('/auth/ticket', { body: '{}', headers: { ...JSON_TYPE, ...headers } });
  const logout = (headers: Record<string, string>) => post('/auth/logout', { body: '{}', headers: { ...JSON_TYPE, ...headers } });
  const loginTicket = async (origin: string | null = ORIGIN) => {
    const cookie = cookieOf(await login());
    const res = await ticketWith({ cookie, ...(origin === null ? {} : { origin }) });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { ticket: string; expiresIn: number; sessionExp: number };
    return { cookie, ticket: body.ticket, sessionExp: body.sessionExp };
  };
  const verify = (body: unknown, secret: string | null = SECRET) =>
    post('/auth/verify', {
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        ...(secret === null ? {} : { authorization: `Bearer ${secret}` }),
      },
    });
  const session = (headers: Record<string, string>) => app.request('/auth/session', { headers });
  return { service, app, clock, logs, ip, post, login, cookieOf, ticketWith, logout, loginTicket, verify, session };
}

const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

describe('parseDemoUsers', () => {
  it('parses user:pass pairs; passwords may contain colons', () => {
    assert.deepEqual(
      [...parseDemoUsers('alice:a:b,bob:pw')],
      [
        ['alice', 'a:b'],
        ['bob', 'pw'],
      ],
    );
  });
  for (const [spec, what] of [
    ['alice:s3cretA,:s3cretB', 'empty username'],
    ['alice:s3cretA,bobs3cretB', 'missing colon'],
    ['alice:s3cretA,alice:s3cretB', 'duplicate'],
    ['alice:s3cretA,$api:s3cretB', 'a name reserved for the server ($…)'],
  ] as const) {
    it(`rejects ${what} without echoing passwords`, () => {
      assert.throws(
        () => parseDemoUsers(spec),
        (err: Error) => {
          assert.doesNotMatch(err.message, /s3cret/);
          return true;
        },
      );
    });
  }
});

describe('POST /auth/login', () => {
  it('204 with a session cookie: HttpOnly, SameSite=Strict, Path=/, Max-Age, no Secure over plain HTTP', async () => {
    const { login } = setup();
    const res = await login();
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^hws_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.match(cookie, /; Max-Age=28800/);
    assert.doesNotMatch(cookie, /Secure/);
  });

  it('secureCookies: __Host- prefix and Secure', async () => {
    const { login } = setup({ secureCookies: true });
    const cookie = (await login()).headers.get('set-cookie') ?? '';
    assert.match(cookie, /^__Host-hws_session=/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; Path=\//);
  });

  it('401 on a wrong password and on an unknown user', async () => {
    const { login } = setup();
    for (const res of [await login('alice', 'nope'), await login('mallory', PASSWORD)]) {
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'invalid_credentials' });
      assert.equal(res.headers.get('set-cookie'), null);
    }
  });

  it('415 unless the content type is JSON (charset allowed)', async () => {
    const { post } = setup();
    const body = JSON.stringify({ username: 'alice', password: PASSWORD });
    const plain = await post('/auth/login', { body, headers: { 'content-type': 'text/plain' } });
    assert.equal(plain.status, 415);
    const none = await post('/auth/login', { body });
    assert.equal(none.status, 415);
    const charset = await post('/auth/login', {
      body,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(charset.status, 204);
  });

  it('413 over maxBodyBytes, with or without Content-Length', async () => {
    const { app, post } = setup({ maxBodyBytes: 64 });
    const big = JSON.stringify({ username: 'alice', password: 'x'.repeat(100) });
    const withLength = await post('/auth/login', {
      body: big,
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
    });
    assert.equal(withLength.status, 413);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await app.request('/auth/login', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
  });

  it('400 invalid_json and invalid_body', async () => {
    const { post } = setup();
    const headers = { 'content-type': 'application/json' };
    const bad = await post('/auth/login', { body: '{"username":', headers });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'invalid_json' });
    for (const body of [{ username: 'alice' }, { username: 1, password: 'x' }, { username: 'a'.repeat(257), password: 'x' }, []]) {
      const res = await post('/auth/login', { body: JSON.stringify(body), headers });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'invalid_body' });
    }
  });

  it('405 for other methods on known paths, 404 elsewhere', async () => {
    const { app } = setup();
    const res = await app.request('/auth/login', { method: 'GET' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal((await app.request('/auth/nope', { method: 'POST' })).status, 404);
  });
});

describe('POST /auth/ticket', () => {
  it('201 via the session cookie: 256-bit base64url ticket, expiresIn in seconds, no-store', async () => {
    const { login, cookieOf, ticketWith } = setup();
    const res = await ticketWith({ cookie: cookieOf(await login()), origin: ORIGIN });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { ticket: string; expiresIn: number };
    assert.match(body.ticket, /^[A-Za-z0-9_-]{43}$/); // 43 chars = 32 bytes >= 128 bits
    assert.equal(body.expiresIn, 30);
  });

  it('201 via Basic auth; 401 with wrong Basic or no credentials', async () => {
    const { ticketWith } = setup();
    assert.equal((await ticketWith({ authorization: basic('alice', PASSWORD) })).status, 201);
    const attempts: Array<Record<string, string>> = [{ authorization: basic('alice', 'wrong') }, {}, { cookie: 'hws_session=forged' }];
    for (const headers of attempts) {
      const res = await ticketWith(headers);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'unauthorized' });
    }
  });

  it('requires a JSON object body ({}): text/plain or no body → 415, malformed → 400', async () => {
    const { post } = setup();
    const authorization = basic('alice', PASSWORD);
    const text = await post('/auth/ticket', { body: '{}', headers: { authorization, 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.deepEqual(await text.json(), { error: 'unsupported_media_type' });
    assert.equal((await post('/auth/ticket', { headers: { authorization } })).status, 415, 'no body, no type');
    assert.equal(
      (await post('/auth/ticket', { body: '', headers: { authorization, 'content-type': 'text/plain' } })).status,
      415,
      'empty text',
    );
    for (const body of ['', '{', '[]', 'null', '"{}"']) {
      const res = await post('/auth/ticket', { body, headers: { authorization, ...JSON_TYPE } });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await post('/auth/ticket', { body: '{"any":"field"}', headers: { authorization, ...JSON_TYPE } })).status, 201);
    const ok = await post('/auth/ticket', { body: '{}', headers: { authorization, ...JSON_TYPE } });
    assert.equal(ok.status, 201);
  });

  describe('body size, decided on a declared Content-Length', () => {
    /** A request that counts reads of its `body` stream getter (on Node that getter builds a whole Request). */
    const spied = (body: string, headers: Record<string, string>) => {
      const request = new Request('http://localhost/auth/ticket', { method: 'POST', body, headers });
      const getter = Object.getOwnPropertyDescriptor(Request.prototype, 'body')?.get;
      const reads = { count: 0 };
      Object.defineProperty(request, 'body', {
        get() {
          reads.count++;
          return getter?.call(request);
        },
      });
      return { request, reads };
    };
    const authorization = basic('alice', PASSWORD);

    it('within the limit: the body is read without its stream getter', async () => {
      const { app } = setup({ maxBodyBytes: 64 });
      const { request, reads } = spied('{}', { authorization, 'content-type': 'application/json', 'content-length': '2' });
      assert.equal((await app.request(request)).status, 201);
      assert.equal(reads.count, 0);
    });

    it('a declared length over the limit is 413 before anything is read', async () => {
      const { app } = setup({ maxBodyBytes: 64 });
      const body = JSON.stringify({ pad: 'x'.repeat(100) });
      const { request, reads } = spied(body, { authorization, 'content-type': 'application/json', 'content-length': String(body.length) });
      const res = await app.request(request);
      assert.equal(res.status, 413);
      assert.deepEqual(await res.json(), { error: 'payload_too_large' });
      assert.equal(reads.count, 0);
    });

    it('a body longer than its declared length is still 413 (checked again after reading)', async () => {
      const { app } = setup({ maxBodyBytes: 64 });
      const body = JSON.stringify({ pad: 'x'.repeat(100) });
      const { request } = spied(body, { authorization, 'content-type': 'application/json', 'content-length': '2' });
      assert.equal((await app.request(request)).status, 413);
    });

    it('without a usable length (none, or a transfer coding) the streamed bytes are counted', async () => {
      const { app } = setup({ maxBodyBytes: 64 });
      const body = JSON.stringify({ pad: 'x'.repeat(100) });
      const extras: Array<Record<string, string>> = [
        {},
        { 'transfer-encoding': 'chunked', 'content-length': '2' },
        { 'content-length': '2, 2' },
      ];
      for (const extra of extras) {
        const { request, reads } = spied(body, { authorization, 'content-type': 'application/json', ...extra });
        assert.equal((await app.request(request)).status, 413, JSON.stringify(extra));
        assert.ok(reads.count > 0, JSON.stringify(extra));
      }
    });
  });

  it('503 unavailable when the ticket store is full', async () => {
    const { ticketWith } = setup({ tickets: new MemoryTicketStore({ maxEntries: 1 }) });
    const authorization = basic('alice', PASSWORD);
    assert.equal((await ticketWith({ authorization })).status, 201);
    const res = await ticketWith({ authorization });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: 'unavailable' });
  });
});

describe('POST /auth/verify', () => {
  it('401 without or with a wrong secret, and the ticket survives', async () => {
    const { loginTicket, verify } = setup();
    const { ticket } = await loginTicket();
    for (const secret of [null, 'wrong', `${SECRET}x`, SECRET.slice(0, -1)]) {
      const res = await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' }, secret);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'unauthorized' });
    }
    assert.equal((await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' })).status, 200);
  });

  it('200 with sub, exp in seconds, sid and claims that cannot override them; then single use', async () => {
    const claimsFor = (sub: string) => ({ channels: [`user:${sub}`], sub: 'root', exp: 1 });
    const { loginTicket, verify, clock } = setup({ claimsFor });
    const loginAt = clock.t;
    const { ticket, sessionExp } = await loginTicket();
    const res = await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.sub, 'alice');
    assert.equal(body.exp, Math.floor((loginAt + 30 * 60 * 1000) / 1000), 'the session slid to 30 min (default) after the ticket request');
    assert.equal(body.exp, sessionExp, 'the ticket request announced this exp');
    assert.match(String(body.sid), /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(body.channels, ['user:alice']);
    const again = await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' });
    assert.equal(again.status, 401);
    assert.deepEqual(await again.json(), { error: 'unknown_ticket' });
  });

  it('Basic-auth tickets have sid null and a session of sessionTtlMs', async () => {
    const { ticketWith, verify, clock } = setup({ sessionTtlMs: 60_000 });
    const res = await ticketWith({ authorization: basic('alice', PASSWORD) });
    const { ticket } = (await res.json()) as { ticket: string };
    const ok = await verify({ ticket, origin: null, ip: '10.0.0.1' });
    assert.deepEqual(await ok.json(), { sub: 'alice', exp: Math.floor((clock.t + 60_000) / 1000), sid: null });
  });

  it('expired: at exp the ticket is refused', async () => {
    const { loginTicket, verify, clock } = setup();
    const { ticket } = await loginTicket();
    clock.t += 30_000;
    const res = await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'expired' });
  });

  it('origin_mismatch: other origin, and null vs an origin both ways', async () => {
    const { loginTicket, verify } = setup();
    const cases: Array<[string | null, string | null]> = [
      [ORIGIN, 'https://evil.example'],
      [null, 'http://x'],
      ['http://x', null],
    ];
    for (const [issuedFrom, presented] of cases) {
      const { ticket } = await loginTicket(issuedFrom);
      const res = await verify({ ticket, origin: presented, ip: '10.0.0.1' });
      assert.deepEqual(await res.json(), { error: 'origin_mismatch' });
      // consumed despite the failure
      const retry = await verify({ ticket, origin: issuedFrom, ip: '10.0.0.1' });
      assert.deepEqual(await retry.json(), { error: 'unknown_ticket' });
    }
  });

  it('ip_mismatch only when both IPs are known and binding is on', async () => {
    const { loginTicket, verify } = setup();
    const a = await loginTicket();
    assert.deepEqual(await (await verify({ ticket: a.ticket, origin: ORIGIN, ip: '10.9.9.9' })).json(), { error: 'ip_mismatch' });
    const b = await loginTicket();
    assert.equal((await verify({ ticket: b.ticket, origin: ORIGIN, ip: null })).status, 200);

    const unbound = setup({ bindTicketToIp: false });
    const c = await unbound.loginTicket();
    assert.equal((await unbound.verify({ ticket: c.ticket, origin: ORIGIN, ip: '10.9.9.9' })).status, 200);
  });

  it('400 on a malformed body (after the secret check)', async () => {
    const { verify } = setup();
    for (const body of [{ ticket: 'x' }, { ticket: 'x'.repeat(2049), origin: null, ip: null }, { ticket: 1, origin: null, ip: null }]) {
      const res = await verify(body);
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'invalid_body' });
    }
  });

  it('503 when the store fails with store_full', async () => {
    const failing: TicketStore = {
      put: async () => {},
      take: async () => {
        throw Object.assign(new Error('full'), { code: 'store_full' });
      },
      close: async () => {},
    };
    const { verify } = setup({ tickets: failing });
    const res = await verify({ ticket: 'abc', origin: null, ip: null });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: 'unavailable' });
  });
});

describe('the session id hash (a runtime port)', () => {
  it('sid = base64url(SHA-256(cookie token)), by the given hash; without one, by the JS hash, to the same value', async () => {
    const hashed: string[] = [];
    const nativeLike = (data: Uint8Array | string) => {
      hashed.push(typeof data === 'string' ? data : 'bytes');
      return new Uint8Array(createHash('sha256').update(data).digest());
    };
    for (const sha256 of [nativeLike, undefined]) {
      const { loginTicket, verify } = setup(sha256 === undefined ? {} : { sha256 });
      const { cookie, ticket } = await loginTicket();
      const token = cookie.split('=')[1]!;
      const { sid } = (await (await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' })).json()) as { sid: string };
      assert.equal(sid, createHash('sha256').update(token).digest('base64url'));
    }
    // login (the new session's sid) and the ticket request (the cookie's sid): the port both times, with the token.
    assert.equal(hashed.length, 2);
    assert.match(hashed[0]!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(hashed[1], hashed[0]);
  });
});

describe('POST /auth/logout', () => {
  it('ends the session: old tickets → session_ended, new tickets → 401, cookie cleared', async () => {
    const { loginTicket, verify, logout, ticketWith } = setup();
    const { cookie, ticket } = await loginTicket();
    const res = await logout({ cookie });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('set-cookie') ?? '', /^hws_session=; Max-Age=0;/);
    const v = await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' });
    assert.deepEqual(await v.json(), { error: 'session_ended' });
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 401);
    assert.equal((await logout({})).status, 204); // no cookie: still 204
  });

  it('logout(sid) ends a session by the sid verify reported; onLogout fires', async () => {
    const ended: Array<{ sid: string; sub: string | null }> = [];
    const { service, loginTicket, verify } = setup({ onLogout: (e) => ended.push(e) });
    const first = await loginTicket();
    const { sid } = (await (await verify({ ticket: first.ticket, origin: ORIGIN, ip: null })).json()) as { sid: string };
    const second = await loginTicket();
    assert.equal(await service.logout(sid), true);
    assert.equal(await service.logout(sid), false);
    assert.equal(await service.logout('no-such-sid'), false);
    // another login's session is untouched
    assert.equal((await verify({ ticket: second.ticket, origin: ORIGIN, ip: null })).status, 200);
    // The hook fires even when the record is already gone: sockets it authorised may still be open.
    assert.deepEqual(ended, [
      { sid, sub: 'alice' },
      { sid, sub: null },
      { sid: 'no-such-sid', sub: null },
    ]);
  });

  it('session expiry ends tickets too: a ticket lapses with its session', async () => {
    const { login, cookieOf, ticketWith, verify, clock } = setup({ sessionTtlMs: 10_000, ticketTtlMs: 30_000 });
    const res = await ticketWith({ cookie: cookieOf(await login()), origin: ORIGIN });
    const { ticket, expiresIn } = (await res.json()) as { ticket: string; expiresIn: number };
    assert.equal(expiresIn, 10);
    clock.t += 10_000;
    assert.deepEqual(await (await verify({ ticket, origin: ORIGIN, ip: null })).json(), { error: 'expired' });
  });
});

describe('logging', () => {
  it('logs the events with structured fields and never a secret', async () => {
    const { logs, login, cookieOf, ticketWith, verify, logout } = setup();
    await login('alice', 'wrong-password-xyz');
    const cookie = cookieOf(await login());
    const token = cookie.split('=')[1] ?? '';
    const issued = (await (await ticketWith({ cookie, origin: ORIGIN })).json()) as { ticket: string };
    const basicRes = await ticketWith({ authorization: basic('alice', PASSWORD) });
    const basicTicket = ((await basicRes.json()) as { ticket: string }).ticket;
    const ok = (await (await verify({ ticket: issued.ticket, origin: ORIGIN, ip: null })).json()) as { sid: string };
    await verify({ ticket: issued.ticket, origin: ORIGIN, ip: null });
    await verify({ ticket: basicTicket, origin: null, ip: null }, 'bad-secret-abc');
    await logout({ cookie });

    const byMessage = (m: string) => logs.filter((e) => e.message === m).map((e) => e.fields);
    assert.deepEqual(byMessage('login.failed')[0], { component: 'auth-service', username: 'alice', ip: '10.0.0.1' });
    assert.deepEqual(byMessage('login.ok')[0], { component: 'auth-service', sub: 'alice', ip: '10.0.0.1' });
    assert.deepEqual(byMessage('ticket.issued')[0], { component: 'auth-service', sub: 'alice', ip: '10.0.0.1', origin: ORIGIN });
    assert.deepEqual(
      byMessage('ticket.verify').map((f) => [f.result, f.reason]),
      [
        ['ok', null],
        ['rejected', 'unknown_ticket'],
      ],
    );
    // Per-connect successes are debug (the gateway logs auth.ok); refusals stay in the info trail.
    const levelsOf = (m: string) => logs.filter((e) => e.message === m).map((e) => e.level);
    assert.deepEqual(levelsOf('ticket.issued'), ['debug', 'debug']);
    assert.deepEqual(levelsOf('ticket.verify'), ['debug', 'info']);
    assert.deepEqual(levelsOf('login.failed'), ['warn']);
    assert.deepEqual(byMessage('logout'), [{ component: 'auth-service', sub: 'alice' }]);

    const dump = JSON.stringify(logs);
    for (const secret of [PASSWORD, 'wrong-password-xyz', SECRET, 'bad-secret-abc', token, ok.sid, issued.ticket, basicTicket]) {
      assert.ok(secret.length > 8);
      assert.equal(dump.includes(secret), false, 'a secret reached the log');
    }
  });
});

describe('sliding sessions', () => {
  const MIN = 60_000;
  type Issued = { ticket: string; expiresIn: number; sessionExp: number };

  it("each ticket request slides the end by sessionTtlMs, up to sessionMaxAgeMs after login; sessionExp is verify's exp", async () => {
    const { login, cookieOf, ticketWith, verify, clock } = setup({ sessionTtlMs: 10 * MIN, sessionMaxAgeMs: 25 * MIN });
    clock.t += 123; // a login between two whole seconds
    const loginAt = clock.t;
    const cookie = cookieOf(await login());
    const ends: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await ticketWith({ cookie, origin: ORIGIN });
      assert.equal(res.status, 201);
      const issued = (await res.json()) as Issued;
      assert.deepEqual(Object.keys(issued).sort(), ['expiresIn', 'sessionExp', 'ticket']);
      const verified = (await (await verify({ ticket: issued.ticket, origin: ORIGIN, ip: '10.0.0.1' })).json()) as { exp: number };
      assert.equal(verified.exp, issued.sessionExp, 'verify answers the exp the ticket request announced');
      ends.push(issued.sessionExp);
      clock.t += 6 * MIN;
    }
    const at = (ms: number) => Math.floor(ms / 1000);
    assert.deepEqual(ends, [
      at(loginAt + 10 * MIN),
      at(loginAt + 16 * MIN),
      at(loginAt + 22 * MIN),
      at(loginAt + 25 * MIN),
      at(loginAt + 25 * MIN),
    ]);
  });

  it('exp is the real end: at exp the session is over (ticket 401, /auth/session 401), a second before it is not', async () => {
    const { login, cookieOf, ticketWith, session, verify, clock } = setup({
      sessionTtlMs: 40_000,
      sessionMaxAgeMs: 40_000,
      ticketTtlMs: 30_000,
    });
    clock.t += 999; // the rounding that let a session outlive its exp by up to a second
    const cookie = cookieOf(await login());
    const first = (await (await ticketWith({ cookie, origin: ORIGIN })).json()) as Issued;
    clock.t = first.sessionExp * 1000 - 1_001;
    const last = await ticketWith({ cookie, origin: ORIGIN });
    assert.equal(last.status, 201);
    const lastIssued = (await last.json()) as Issued;
    assert.equal(lastIssued.sessionExp, first.sessionExp, 'at the absolute end nothing slides');
    assert.equal(lastIssued.expiresIn, 1, 'the ticket lapses with the session');
    assert.equal((await session({ cookie })).status, 200);
    clock.t = first.sessionExp * 1000;
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 401);
    assert.equal((await session({ cookie })).status, 401);
    const late = await verify({ ticket: lastIssued.ticket, origin: ORIGIN, ip: '10.0.0.1' });
    assert.equal(late.status, 401, 'no ticket outlives its session');
  });

  it('never issues a ticket its session will not honour: expiresIn ≤ the time the session has left; none in its last second', async () => {
    const { login, cookieOf, ticketWith, verify, clock } = setup({ sessionTtlMs: 60_000, sessionMaxAgeMs: 60_000, ticketTtlMs: 30_000 });
    const cookie = cookieOf(await login());
    clock.t += 50_000;
    const issued = (await (await ticketWith({ cookie, origin: ORIGIN })).json()) as Issued;
    assert.equal(issued.expiresIn, 10);
    clock.t += 9_999;
    assert.equal((await verify({ ticket: issued.ticket, origin: ORIGIN, ip: '10.0.0.1' })).status, 200, 'honoured until the end');
    clock.t -= 500; // 500 ms left
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 401);
  });

  it('the cookie lives as long as the session can (Max-Age = sessionMaxAgeMs)', async () => {
    const { login } = setup({ sessionTtlMs: 60_000, sessionMaxAgeMs: 3_600_000 });
    assert.match((await login()).headers.get('set-cookie') ?? '', /; Max-Age=3600;/);
  });

  it('sessionTtlMs longer than sessionMaxAgeMs is refused, naming it', () => {
    assert.throws(() => setup({ sessionTtlMs: 3_600_001, sessionMaxAgeMs: 3_600_000 }), /sessionTtlMs/);
  });
});

describe('GET /auth/session', () => {
  it("200 {sub, exp} for the cookie's live session, no-store, without extending it", async () => {
    const { login, cookieOf, session, ticketWith, clock } = setup({ sessionTtlMs: 60_000 });
    const cookie = cookieOf(await login());
    const { sessionExp } = (await (await ticketWith({ cookie, origin: ORIGIN })).json()) as { sessionExp: number };
    clock.t += 30_000;
    const res = await session({ cookie });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { sub: 'alice', exp: sessionExp });
    clock.t = sessionExp * 1000;
    assert.equal((await session({ cookie })).status, 401, 'reading it did not extend it');
  });

  it('401 {"error":"unauthorized"} without a cookie, with a forged one, after logout; 405 for POST', async () => {
    const { app, login, cookieOf, session, logout } = setup();
    const cookie = cookieOf(await login());
    await logout({ cookie });
    const attempts: Array<Record<string, string>> = [{}, { cookie: `hws_session=${'A'.repeat(43)}` }, { cookie }];
    for (const headers of attempts) {
      const res = await session(headers);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'unauthorized' });
    }
    const post = await app.request('/auth/session', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});

describe('state-changing routes: Host, Origin and JSON', () => {
  it('ticket: an Origin that may not open /ws → 403 origin_not_allowed, even with a valid cookie; no ticket spent', async () => {
    const { login, cookieOf, ticketWith, logs } = setup();
    const cookie = cookieOf(await login());
    for (const origin of ['https://evil.example', 'null', 'https://app.example.evil', 'http://localhost:8080']) {
      const res = await ticketWith({ cookie, origin });
      assert.equal(res.status, 403, origin);
      assert.deepEqual(await res.json(), { error: 'origin_not_allowed' });
    }
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 201, 'an allowed origin');
    assert.equal((await ticketWith({ cookie, origin: SELF })).status, 201, 'self');
    assert.equal((await ticketWith({ cookie })).status, 201, 'no Origin: allowed like the upgrade by default');
    assert.ok(
      logs.some(
        (e) => e.message === 'request.refused' && e.fields.reason === 'origin_not_allowed' && e.fields.origin === 'https://evil.example',
      ),
    );
  });

  it('a missing Origin follows allowMissingOrigin, for Basic auth too', async () => {
    const { ticketWith } = setup({ origins: origins(false) });
    const res = await ticketWith({ authorization: basic('alice', PASSWORD) });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: 'origin_not_allowed' });
    assert.equal((await ticketWith({ authorization: basic('alice', PASSWORD), origin: ORIGIN })).status, 201);
  });

  it('login and logout from a foreign or null Origin → 403; the session survives a cross-site logout', async () => {
    const { post, login, cookieOf, logout, ticketWith } = setup();
    for (const origin of ['https://evil.example', 'null']) {
      const res = await post('/auth/login', {
        body: JSON.stringify({ username: 'alice', password: PASSWORD }),
        headers: { ...JSON_TYPE, origin },
      });
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('set-cookie'), null);
    }
    const cookie = cookieOf(await login());
    for (const origin of ['https://evil.example', 'null']) {
      const res = await logout({ cookie, origin });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { error: 'origin_not_allowed' });
    }
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 201, 'still logged in');
  });

  it('logout requires a JSON object: a text/plain or empty body (a cross-site simple request) → 415 and the session survives', async () => {
    const { post, login, cookieOf, ticketWith } = setup();
    const cookie = cookieOf(await login());
    const attempts: Array<{ body?: string; headers: Record<string, string> }> = [
      { headers: { cookie } },
      { body: '', headers: { cookie, 'content-type': 'text/plain' } },
      { body: '{}', headers: { cookie, 'content-type': 'text/plain;charset=UTF-8' } },
      { body: 'a=b', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' } },
    ];
    for (const init of attempts) assert.equal((await post('/auth/logout', init)).status, 415, JSON.stringify(init));
    assert.equal((await post('/auth/logout', { body: '[]', headers: { cookie, ...JSON_TYPE } })).status, 400);
    assert.equal((await ticketWith({ cookie, origin: ORIGIN })).status, 201, 'still logged in');
  });

  it("a Host that is not one of the server's names → 421 on login, ticket, session and logout; /auth/verify is exempt", async () => {
    const { app, verify, loginTicket } = setup();
    const { ticket } = await loginTicket();
    for (const [method, path] of [
      ['POST', '/auth/login'],
      ['POST', '/auth/ticket'],
      ['GET', '/auth/session'],
      ['POST', '/auth/logout'],
    ] as const) {
      const res = await app.request(`http://evil.example${path}`, {
        method,
        headers: { host: 'evil.example', origin: 'http://evil.example', ...JSON_TYPE },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      assert.equal(res.status, 421, path);
      assert.deepEqual(await res.json(), { error: 'unknown_host' });
    }
    assert.equal((await verify({ ticket, origin: ORIGIN, ip: '10.0.0.1' })).status, 200);
    const viaOtherName = await app.request('http://auth.internal/auth/verify', {
      method: 'POST',
      headers: { host: 'auth.internal', ...JSON_TYPE, authorization: `Bearer ${SECRET}` },
      body: JSON.stringify({ ticket: 'A'.repeat(43), origin: null, ip: null }),
    });
    assert.deepEqual(await viaOtherName.json(), { error: 'unknown_ticket' });
  });
});

describe('usernames in the log', () => {
  it('login.failed names a known user; anything else (maybe a password typed as username) only as a short keyed hash', async () => {
    const { login, logs, post } = setup();
    const typedPassword = 'hunter2-Typed-Into-Username';
    await login('alice', 'wrong-password-one');
    await login(typedPassword, 'x');
    await login(typedPassword, 'y');
    await login('mallory', 'z');
    await post('/auth/ticket', { body: '{}', headers: { ...JSON_TYPE, authorization: basic(typedPassword, 'x') } });
    const failed = logs.filter((e) => e.message === 'login.failed').map(({ fields: { component: _c, ...fields } }) => fields);
    assert.deepEqual(failed[0], { username: 'alice', ip: '10.0.0.1' });
    const hashes = failed.slice(1).map((f) => f.usernameHash);
    for (const [i, f] of failed.slice(1).entries()) {
      assert.deepEqual(Object.keys(f).sort(), ['ip', 'usernameHash'], String(i));
      assert.match(String(f.usernameHash), /^[0-9a-f]{12}$/);
    }
    assert.equal(hashes[0], hashes[1], 'the same input correlates');
    assert.equal(hashes[0], hashes[3], 'the same input correlates across login and Basic auth');
    assert.notEqual(hashes[0], hashes[2]);
    assert.equal(JSON.stringify(logs).includes(typedPassword), false);
    assert.equal(JSON.stringify(logs).includes('mallory'), false);
    // Keyed per process (per service): another service hashes the same input differently.
    const other = setup();
    await other.login(typedPassword, 'x');
    assert.notEqual(other.logs.find((e) => e.message === 'login.failed')?.fields.usernameHash, hashes[0]);
  });
});
