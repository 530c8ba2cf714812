import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthService } from '../../src/auth-service/index.ts';
import type { AuthServiceOptions } from '../../src/auth-service/index.ts';
import { MemorySessionStore } from '../../src/store/memory-session-store.ts';
import { MemoryTicketStore } from '../../src/store/memory-ticket-store.ts';
import { spyLogger, type LogEntry } from '../support/spy-logger.ts';

const PASSWORD = 'correct-horse-battery-staple';
const WRONG = 'Tr0ub4dor&3-wrong-guess';
const SECRET = 'gateway-shared-secret-0123456789';

/** Small buckets so the tests stay short: 3 login attempts, 5 tickets, both refilling at 1/s. */
function setup(overrides: Partial<AuthServiceOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const logs: LogEntry[] = [];
  const ip = { value: '10.0.0.1' as string | null };
  const { app } = createAuthService({
    users: new Map([['alice', PASSWORD], ['bob', PASSWORD]]),
    verifySecret: SECRET,
    tickets: new MemoryTicketStore({ now }),
    sessions: new MemorySessionStore({ now }),
    now,
    logger: spyLogger(logs),
    clientIp: () => ip.value,
    loginRate: { perSecond: 1, burst: 3 },
    ticketRate: { perSecond: 1, burst: 5 },
    ...overrides,
  });
  const post = (path: string, body: string | null, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', body, headers });
  const login = (username = 'alice', password = PASSWORD) =>
    post('/auth/login', JSON.stringify({ username, password }), { 'content-type': 'application/json' });
  const ticket = (headers: Record<string, string>) => post('/auth/ticket', null, headers);
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
  // The fields each call logged, without the service's child-logger binding.
  const limitHits = () => logs.filter((e) => e.message === 'limit.hit').map(({ fields: { component: _component, ...fields } }) => fields);
  return { clock, logs, ip, login, ticket, cookieOf, limitHits };
}

const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

async function assert429(res: Response, error: string, retryAfter: string) {
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), retryAfter);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('set-cookie'), null);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), { error });
  assert.doesNotMatch(text, new RegExp(PASSWORD));
}

describe('POST /auth/login: brute-force limits', () => {
  it('a burst of attempts from one IP, then 429 too_many_attempts with Retry-After (seconds, rounded up)', async () => {
    const { login, limitHits, clock } = setup({ loginRate: { perSecond: 0.4, burst: 3 } });
    for (let i = 0; i < 3; i++) assert.equal((await login('alice', WRONG)).status, 401);
    await assert429(await login('alice', WRONG), 'too_many_attempts', '3'); // 1 token at 0.4/s = 2.5 s → 3
    clock.t += 1_000;
    await assert429(await login('bob', WRONG), 'too_many_attempts', '2'); // other usernames share the IP's bucket
    assert.deepEqual(limitHits(), [
      { limit: 'login_ip', ip: '10.0.0.1', username: 'alice' },
      { limit: 'login_ip', ip: '10.0.0.1', username: 'bob' },
    ]);
  });

  it('per IP, successful logins count too', async () => {
    const { login } = setup();
    for (let i = 0; i < 3; i++) assert.equal((await login()).status, 204);
    assert.equal((await login()).status, 429);
  });

  it('per username across different IPs; the username is case-folded', async () => {
    const { login, ip, limitHits } = setup();
    for (const [i, name] of ['alice', 'ALICE', 'Alice'].entries()) {
      ip.value = `10.0.1.${i}`;
      assert.equal((await login(name, WRONG)).status, 401);
    }
    ip.value = '10.0.2.1';
    await assert429(await login('alice', WRONG), 'too_many_attempts', '1');
    // Another user from the same fresh IP is unaffected.
    assert.equal((await login('bob')).status, 204);
    assert.deepEqual(limitHits(), [{ limit: 'login_user', ip: '10.0.2.1', username: 'alice' }]);
  });

  it('the correct password during a lock-out still gets 429, and no session', async () => {
    const { login, ip } = setup();
    for (let i = 0; i < 3; i++) {
      ip.value = `10.0.1.${i}`;
      await login('alice', WRONG);
    }
    ip.value = '10.0.3.3';
    await assert429(await login('alice', PASSWORD), 'too_many_attempts', '1');
  });

  it('recovers when the clock advances: the bucket refills', async () => {
    const { login, clock } = setup();
    for (let i = 0; i < 3; i++) await login('alice', WRONG);
    assert.equal((await login()).status, 429);
    clock.t += 999;
    assert.equal((await login()).status, 429);
    clock.t += 1;
    assert.equal((await login()).status, 204);
  });

  it('per username only failures since the last success count: a shared account is not throttled by its own logins', async () => {
    const { login, ip } = setup();
    for (let i = 0; i < 10; i++) {
      ip.value = `10.0.4.${i}`; // fresh IPs, so only the username bucket is in play
      assert.equal((await login()).status, 204);
    }
    for (let i = 0; i < 3; i++) {
      ip.value = `10.0.5.${i}`;
      assert.equal((await login('alice', WRONG)).status, 401);
    }
    ip.value = '10.0.6.1';
    assert.equal((await login()).status, 429);
  });

  it('without a known client IP only the username limit applies (no shared bucket for everyone)', async () => {
    const { login, ip, limitHits } = setup();
    ip.value = null;
    for (let i = 0; i < 3; i++) assert.equal((await login('alice', WRONG)).status, 401);
    assert.equal((await login('alice', WRONG)).status, 429);
    assert.equal((await login('bob')).status, 204);
    assert.deepEqual(limitHits(), [{ limit: 'login_user', ip: null, username: 'alice' }]);
  });

  it('a malformed body costs no token', async () => {
    const { login } = setup();
    for (let i = 0; i < 5; i++) assert.equal((await login('', 'x')).status, 400);
    assert.equal((await login()).status, 204);
  });

  it('Basic auth on /auth/ticket shares the login limits (it checks a password too)', async () => {
    const { login, ticket, ip } = setup();
    for (let i = 0; i < 3; i++) {
      ip.value = `10.0.7.${i}`;
      assert.equal((await ticket({ authorization: basic('alice', WRONG) })).status, 401);
    }
    ip.value = '10.0.8.1';
    await assert429(await ticket({ authorization: basic('alice', PASSWORD) }), 'too_many_attempts', '1');
    assert.equal((await login('alice', PASSWORD)).status, 429);
  });
});

describe('POST /auth/ticket: per-session limit', () => {
  it('a burst per session, then 429 too_many_tickets; another session of the same user is unaffected', async () => {
    const { login, ticket, cookieOf, limitHits, clock } = setup();
    const first = cookieOf(await login());
    const second = cookieOf(await login());
    for (let i = 0; i < 5; i++) assert.equal((await ticket({ cookie: first })).status, 201);
    await assert429(await ticket({ cookie: first }), 'too_many_tickets', '1');
    assert.equal((await ticket({ cookie: second })).status, 201);
    assert.deepEqual(limitHits(), [{ limit: 'ticket_session', sub: 'alice', ip: '10.0.0.1' }]);
    clock.t += 1_000;
    assert.equal((await ticket({ cookie: first })).status, 201);
  });

  it('Basic-auth clients are limited per user', async () => {
    const { ticket, ip } = setup({ loginRate: { perSecond: 1, burst: 100 } });
    for (let i = 0; i < 5; i++) assert.equal((await ticket({ authorization: basic('bob', PASSWORD) })).status, 201);
    ip.value = '10.0.9.9';
    await assert429(await ticket({ authorization: basic('bob', PASSWORD) }), 'too_many_tickets', '1');
    assert.equal((await ticket({ authorization: basic('alice', PASSWORD) })).status, 201);
  });
});

describe('limits: options and logs', () => {
  it('rejects a nonsense rate, naming the option', () => {
    assert.throws(() => setup({ loginRate: { perSecond: 0, burst: 1 } }), /loginRate/);
    assert.throws(() => setup({ ticketRate: { perSecond: 1, burst: 0 } }), /ticketRate/);
  });

  it('no log line and no 429 body contains a password or a cookie', async () => {
    const { login, ticket, cookieOf, logs } = setup();
    const cookie = cookieOf(await login());
    for (let i = 0; i < 6; i++) await login('alice', WRONG);
    for (let i = 0; i < 6; i++) await ticket({ cookie });
    const text = JSON.stringify(logs);
    assert.ok(logs.some((e) => e.message === 'limit.hit'));
    for (const secret of [PASSWORD, WRONG, cookie.split('=')[1] ?? '', SECRET]) {
      assert.ok(secret.length > 0);
      assert.equal(text.includes(secret), false);
    }
  });
});
