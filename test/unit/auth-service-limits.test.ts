import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthService } from '../../src/auth-service/index.ts';
import type { AuthServiceOptions } from '../../src/auth-service/index.ts';
import { MemorySessionStore } from '../../src/backends/memory/session-store.ts';
import { MemoryTicketStore } from '../../src/backends/memory/ticket-store.ts';
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
    users: new Map([
      ['alice', PASSWORD],
      ['bob', PASSWORD],
    ]),
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
  const ticket = (headers: Record<string, string>) => post('/auth/ticket', '{}', { 'content-type': 'application/json', ...headers });
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

  it('per username, failures from addresses that failed for it are held back; the name is case-folded', async () => {
    const { login, ip, limitHits, clock } = setup();
    for (const [i, name] of ['alice', 'ALICE', 'Alice'].entries()) {
      ip.value = `10.0.1.${i}`;
      assert.equal((await login(name, WRONG)).status, 401);
    }
    // 10.0.1.0 has failed for alice: the username's ceiling (3, spent) now holds it back.
    ip.value = '10.0.1.0';
    await assert429(await login('alice', WRONG), 'too_many_attempts', '1');
    await assert429(await login('alice', PASSWORD), 'too_many_attempts', '1');
    // Another user from the same address is unaffected (once the address's own bucket has a token).
    clock.t += 1_000;
    assert.equal((await login('bob')).status, 204);
    assert.deepEqual(limitHits(), [
      { limit: 'login_user', ip: '10.0.1.0', username: 'alice' },
      { limit: 'login_user', ip: '10.0.1.0', username: 'alice' },
    ]);
  });

  it('lock-out: an attacker spraying wrong passwords for a user from many IPs cannot lock its owner out of a fresh IP', async () => {
    // The defaults (0.2/s, burst 10) and a lock-out attack: ten wrong passwords from
    // any addresses, then one request every 5 s to keep the username's bucket empty.
    const { login, ip, clock } = setup({ loginRate: { perSecond: 0.2, burst: 10 } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      ip.value = `203.0.113.${i}`;
      statuses.push((await login('alice', `${WRONG}-${i}`)).status);
    }
    for (let i = 0; i < 40; i++) {
      clock.t += 5_000;
      ip.value = `203.0.113.${i % 12}`;
      statuses.push((await login('alice', `${WRONG}-again-${i}`)).status);
    }
    assert.ok(
      statuses.every((status) => status === 401 || status === 429),
      JSON.stringify(statuses),
    );
    // An attacking address is held back, whatever it sends…
    ip.value = '203.0.113.7';
    assert.equal((await login('alice', PASSWORD)).status, 429);
    // …while the owner, from an address that has not been failing, logs in right away.
    ip.value = '198.51.100.20';
    assert.equal((await login('alice', PASSWORD)).status, 204);
  });

  it('the attacker gets one guess per fresh address once the ceiling is spent, then that address is held back', async () => {
    const { login, ip } = setup();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      ip.value = `203.0.113.${i}`;
      statuses.push((await login('alice', WRONG)).status);
      statuses.push((await login('alice', WRONG)).status);
    }
    // The ceiling (3) goes on the first three failures; from then on each fresh address gets its
    // one guess and its second try meets the spent ceiling.
    assert.deepEqual(statuses, [401, 401, 401, 429, 401, 429, 401, 429, 401, 429, 401, 429]);
  });

  it('a failing address is held back for 15 minutes, and a success from it clears the mark', async () => {
    const { login, ip, clock } = setup({ loginRate: { perSecond: 1, burst: 1 } });
    ip.value = '10.0.2.1';
    assert.equal((await login('alice', WRONG)).status, 401);
    clock.t += 60_000; // the ceiling refilled, the mark stays
    assert.equal((await login('alice', WRONG)).status, 401);
    ip.value = '10.0.2.2';
    assert.equal((await login('alice', WRONG)).status, 401); // fresh: not held back, spends the ceiling
    ip.value = '10.0.2.1';
    assert.equal((await login('alice', PASSWORD)).status, 429, 'held back: failing, ceiling spent');
    clock.t += 15 * 60_000;
    assert.equal((await login('alice', PASSWORD)).status, 204, 'the mark lapsed');
  });

  it('one IP spraying many usernames gets 429 (per-IP limit), whatever the usernames', async () => {
    const { login, limitHits } = setup();
    const statuses: number[] = [];
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) statuses.push((await login(name, WRONG)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    assert.deepEqual(
      limitHits().map((h) => h.limit),
      ['login_ip', 'login_ip', 'login_ip'],
    );
  });

  it('the correct password from a held-back address still gets 429, and no session', async () => {
    const { login, ip } = setup();
    for (let i = 0; i < 3; i++) {
      ip.value = `10.0.1.${i}`;
      await login('alice', WRONG);
    }
    ip.value = '10.0.1.1';
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

  it('per username only failures count: a shared account is not throttled by its own logins', async () => {
    const { login, ip } = setup({ loginRate: { perSecond: 0.001, burst: 3 } });
    for (const address of ['10.0.4.1', '10.0.4.2']) {
      ip.value = address;
      assert.equal((await login('alice', WRONG)).status, 401); // held back from now on; one token of the ceiling left
    }
    for (const address of ['10.0.4.1', '10.0.4.1', '10.0.4.2', '10.0.4.2']) {
      ip.value = address;
      assert.equal((await login()).status, 204, `${address}: a success gives its token back`);
    }
  });

  it('without a known client IP the username ceiling always applies (no shared bucket for everyone)', async () => {
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
    ip.value = '10.0.7.1';
    await assert429(await ticket({ authorization: basic('alice', PASSWORD) }), 'too_many_attempts', '1');
    assert.equal((await login('alice', PASSWORD)).status, 429);
    ip.value = '10.0.8.1';
    assert.equal((await ticket({ authorization: basic('alice', PASSWORD) })).status, 201, 'from a fresh address');
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
