/**
 * The conformance suite: the same behaviour checked over real sockets against the server on
 * every runtime (Node dist, Bun, Deno, the compiled binary), plain and under TLS.
 * The server under test runs with --ticket-ttl 2s and --auth-timeout 1s so expiry is testable.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { authenticated, connect, issuedSecrets, login, sleep, ticket, type Target } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { TestSocket } from '../support/ws-client.ts';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';
export const conformanceServerArgs = [
  '--ticket-ttl',
  '2s',
  '--auth-timeout',
  '1s',
  '--max-message',
  '16KiB',
  '--demo-users',
  'demo:demo,eve:eve-password',
  '--max-connections-per-user',
  '3',
  '--admin-token',
  ADMIN_TOKEN,
  // Every test logs in from 127.0.0.1; the strict defaults have their own tests.
  '--login-rate',
  '100/s,1000',
  '--ticket-rate',
  '100/s,1000',
  // Two foreign origins pass the gate so that ticket binding (A's ticket used from B) is tested behind it.
  '--allowed-origins',
  'self,http://a.example,http://b.example',
];

const JSON_POST = (cookie: string, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { cookie, 'content-type': 'application/json', ...extra },
  body: '{}',
});

export function conformanceSuite(target: () => Target): void {
  it('authenticates with a ticket and answers echo and ping', async () => {
    const socket = await authenticated(target());
    const ok = socket.messages[0]!;
    assert.equal(ok.sub, 'demo');
    assert.ok(typeof ok.exp === 'number' && ok.exp * 1000 > Date.now(), 'exp is in the future (epoch seconds)');
    socket.send({ type: 'echo', id: 1, data: { text: 'héllo 👋' } });
    assert.deepEqual(await socket.message(1), { type: 'echo', id: 1, data: { text: 'héllo 👋' } });
    socket.send({ type: 'ping', id: 'p1' });
    assert.deepEqual(await socket.message(2), { type: 'pong', id: 'p1' });
    socket.close();
    assert.equal((await socket.closeCode()).code, 1000);
  });

  it('dispatches messages pipelined behind the auth frame in order, after auth.ok', async () => {
    const t = target();
    const tk = await ticket(t, await login(t));
    const socket = connect(t);
    await socket.opened;
    socket.send({ type: 'auth', ticket: tk });
    for (let i = 1; i <= 5; i++) socket.send({ type: 'echo', id: i, data: i });
    await socket.message(5);
    assert.deepEqual(
      socket.messages.map((m) => `${m.type}:${m.id ?? ''}`),
      ['auth.ok:', 'echo:1', 'echo:2', 'echo:3', 'echo:4', 'echo:5'],
    );
    socket.close();
  });

  it('keeps the socket open on invalid JSON, unknown types and binary frames', async () => {
    const socket = await authenticated(target());
    socket.send('{not json');
    assert.deepEqual(await socket.message(1), { type: 'error', code: 'invalid_json' });
    socket.send({ type: 'nope', id: 7 });
    assert.deepEqual(await socket.message(2), { type: 'error', id: 7, code: 'unknown_type' });
    socket.raw.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await socket.message(3), { type: 'error', code: 'binary_unsupported' });
    socket.send({ type: 'echo', id: 8, data: 'still here' });
    assert.deepEqual(await socket.message(4), { type: 'echo', id: 8, data: 'still here' });
    socket.close();
  });

  it('closes 4401 on a reused ticket', async () => {
    const t = target();
    const tk = await ticket(t, await login(t));
    const first = connect(t);
    await first.opened;
    first.send({ type: 'auth', ticket: tk });
    assert.equal((await first.message(0)).type, 'auth.ok');
    const second = connect(t);
    await second.opened;
    second.send({ type: 'auth', ticket: tk });
    assert.deepEqual(await second.closeCode(), { code: 4401, reason: 'ticket rejected' });
    first.close();
  });

  it('closes 4401 on a forged ticket and never dispatches what followed it', async () => {
    const socket = connect(target());
    await socket.opened;
    socket.send({ type: 'auth', ticket: 'A'.repeat(43) });
    socket.send({ type: 'echo', id: 1, data: 'must not come back' });
    socket.send({ type: 'ping', id: 2 });
    assert.deepEqual(await socket.closeCode(), { code: 4401, reason: 'ticket rejected' });
    assert.deepEqual(socket.messages, []);
  });

  it('closes 4401 on an expired ticket', async () => {
    const t = target();
    const tk = await ticket(t, await login(t));
    await sleep(2_300);
    const socket = connect(t);
    await socket.opened;
    socket.send({ type: 'auth', ticket: tk });
    assert.equal((await socket.closeCode()).code, 4401);
  });

  it('closes 4401 when a ticket issued for origin A is used from origin B, and the reason does not say why', async () => {
    const t = target();
    const tk = await ticket(t, await login(t), 'http://a.example');
    const socket = connect(t, 'http://b.example');
    await socket.opened;
    socket.send({ type: 'auth', ticket: tk });
    const closed = await socket.closeCode();
    assert.deepEqual(closed, { code: 4401, reason: 'ticket rejected' });
    assert.ok(!closed.reason.includes(tk));
  });

  it('accepts a ticket used from the origin it was issued for', async () => {
    const t = target();
    const tk = await ticket(t, await login(t), 'http://a.example');
    const socket = connect(t, 'http://a.example');
    await socket.opened;
    socket.send({ type: 'auth', ticket: tk });
    assert.equal((await socket.message(0)).type, 'auth.ok');
    socket.close();
  });

  it('refuses an upgrade from an origin not on the allowlist with 403, never a 101', async () => {
    const t = target();
    for (const origin of ['http://evil.example', 'http://a.example.evil', 'null']) {
      const socket = connect(t, origin);
      await assert.rejects(socket.opened, /upgrade refused: 403/, origin);
    }
    const own = connect(t, t.origin);
    await own.opened;
    own.close();
  });

  it('closes 1008 when the first frame is not an auth message', async () => {
    for (const first of ['{"type":"echo","id":1,"data":"x"}', 'not json', '{"type":"auth"}', '{"type":"auth","ticket":42}']) {
      const socket = connect(target());
      await socket.opened;
      socket.send(first);
      assert.equal((await socket.closeCode()).code, 1008, first);
      assert.deepEqual(socket.messages, []);
    }
  });

  it('closes 1008 on a binary first frame', async () => {
    const socket = connect(target());
    await socket.opened;
    socket.raw.send(Buffer.from('{"type":"auth","ticket":"xxxxxxxxxxxxxxxxxxxx"}'));
    assert.equal((await socket.closeCode()).code, 1008);
  });

  it('closes 1009 on an auth frame over 4 KiB', async () => {
    const socket = connect(target());
    await socket.opened;
    socket.send({ type: 'auth', ticket: 'x'.repeat(5_000) });
    assert.equal((await socket.closeCode()).code, 1009);
  });

  it('closes 4408 when no auth message arrives before the deadline', async () => {
    const requested = Date.now(); // the server's timer cannot start earlier than this
    const socket = connect(target());
    await socket.opened;
    assert.deepEqual(await socket.closeCode(), { code: 4408, reason: 'auth deadline passed' });
    assert.ok(socket.closedAt! - requested >= 990, 'not before the 1 s deadline (timers may round by a few ms)');
  });

  it('closes 1009 on a message over the size limit after auth', async () => {
    const socket = await authenticated(target());
    socket.send({ type: 'echo', id: 1, data: 'x'.repeat(17 * 1024) });
    assert.equal((await socket.closeCode()).code, 1009);
  });

  it('answers 401 on /auth/verify without the verify secret', async () => {
    const t = target();
    for (const authorization of [undefined, 'Bearer wrong-secret-wrong-secret-wrong-secret']) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (authorization) headers.authorization = authorization;
      const res = await request(`${t.origin}/auth/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ticket: 'A'.repeat(43), origin: null, ip: null }),
        ca: t.ca,
      });
      assert.equal(res.status, 401);
    }
  });

  it('answers 401 on bad credentials, 415 on non-JSON and 426 on a plain GET /ws', async () => {
    const t = target();
    const bad = await request(`${t.origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'wrong' }),
      ca: t.ca,
    });
    assert.equal(bad.status, 401);
    const form = await request(`${t.origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=demo&password=demo',
      ca: t.ca,
    });
    assert.equal(form.status, 415);
    assert.equal((await request(`${t.origin}/ws`, { ca: t.ca })).status, 426);
  });

  it('extends the session in-band with a refresh ticket for the same user', async () => {
    const t = target();
    const cookie = await login(t);
    const socket = await authenticated(t, cookie);
    socket.send({ type: 'refresh', id: 'r1', ticket: await ticket(t, cookie) });
    const refreshed = await socket.message(1);
    assert.equal(refreshed.type, 'session.refreshed');
    assert.equal(refreshed.id, 'r1');
    assert.equal(typeof refreshed.exp, 'number');
    socket.send({ type: 'refresh', id: 'r2', ticket: 'B'.repeat(43) });
    assert.deepEqual(await socket.message(2), { type: 'error', id: 'r2', code: 'refresh_rejected' });
    socket.send({ type: 'echo', id: 3, data: 'still open' });
    assert.equal((await socket.message(3)).type, 'echo');
    socket.close();
  });

  it("on logout closes that session's sockets with 4409 and leaves other sessions alone", async () => {
    const t = target();
    const mine = await login(t);
    const other = await login(t);
    const a = await authenticated(t, mine);
    const b = await authenticated(t, mine);
    const c = await authenticated(t, other);
    const res = await request(`${t.origin}/auth/logout`, {
      method: 'POST',
      headers: { cookie: mine, 'content-type': 'application/json' },
      body: '{}',
      ca: t.ca,
    });
    assert.equal(res.status, 204);
    assert.deepEqual(await a.closeCode(), { code: 4409, reason: 'session revoked' });
    assert.equal((await b.closeCode()).code, 4409);
    c.send({ type: 'ping', id: 1 });
    assert.deepEqual(await c.message(1), { type: 'pong', id: 1 });
    c.close();
  });

  it('caps sockets per user: the newest gets 4430 before auth.ok', async () => {
    const t = target();
    const cookie = await login(t, 'eve', 'eve-password');
    const held: TestSocket[] = [];
    for (let i = 0; i < 3; i++) held.push(await authenticated(t, cookie));
    const extra = connect(t);
    await extra.opened;
    extra.send({ type: 'auth', ticket: await ticket(t, cookie) });
    assert.deepEqual(await extra.closeCode(), { code: 4430, reason: 'too many connections for this user' });
    assert.equal(extra.messages.length, 0);
    held.pop()!.close();
    await sleep(200);
    const again = await authenticated(t, cookie);
    for (const socket of [...held, again]) socket.close();
    await Promise.all([...held, again].map((socket) => socket.closeCode()));
  });

  it("lets an operator with the admin token close a user's sockets (4503); refuses without it", async () => {
    const t = target();
    const unauthorized = await request(`${t.origin}/admin/connections`, { ca: t.ca });
    assert.equal(unauthorized.status, 401);
    const socket = await authenticated(t, await login(t, 'eve', 'eve-password'));
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const counts = await request(`${t.origin}/admin/connections`, { headers: auth, ca: t.ca });
    assert.equal(counts.status, 200);
    assert.ok(counts.json<{ connections: number }>().connections >= 1);
    const kicked = await request(`${t.origin}/admin/users/eve/close`, { method: 'POST', headers: auth, ca: t.ca });
    assert.deepEqual(kicked.json(), { closed: 1, instances: 'all' });
    assert.deepEqual(await socket.closeCode(), { code: 4503, reason: 'closed by administrator' });
  });

  it('delivers channel messages between users with from, and refuses what the claims do not allow', async () => {
    const t = target();
    const demo = await authenticated(t);
    const eve = await authenticated(t, await login(t, 'eve', 'eve-password'));
    // chat keeps history (the built-in namespace table): replies and deliveries carry positions.
    const channel = `chat:conformance-${Date.now()}`;
    demo.send({ type: 'subscribe', id: 's1', channel });
    const subscribed = await demo.message(1);
    assert.deepEqual(subscribed, { type: 'ok', id: 's1', offset: 0, epoch: subscribed.epoch });
    assert.equal(typeof subscribed.epoch, 'string');
    const { epoch } = subscribed;
    eve.send({ type: 'publish', id: 'p1', channel, data: { text: 'hello from eve' } });
    assert.deepEqual(await eve.message(1), { type: 'ok', id: 'p1', offset: 1, epoch });
    assert.deepEqual(await demo.message(2), { type: 'message', channel, data: { text: 'hello from eve' }, from: 'eve', offset: 1, epoch });
    eve.send({ type: 'subscribe', id: 's2', channel: 'user:demo' });
    assert.deepEqual(await eve.message(2), { type: 'error', id: 's2', code: 'forbidden' });
    eve.send({ type: 'publish', id: 'p2', channel: 'bad channel', data: 1 });
    assert.deepEqual(await eve.message(3), { type: 'error', id: 'p2', code: 'invalid_channel' });
    demo.close();
    await demo.closeCode();
    // Away while two more are published: back with `since`, exactly those two, in order, then ok.
    eve.send({ type: 'publish', id: 'p3', channel, data: 2 });
    eve.send({ type: 'publish', id: 'p4', channel, data: 3 });
    assert.deepEqual([(await eve.message(4)).offset, (await eve.message(5)).offset], [2, 3]);
    const back = await authenticated(t);
    back.send({ type: 'subscribe', id: 's3', channel, since: { offset: 1, epoch } });
    assert.deepEqual(
      [await back.message(1), await back.message(2), await back.message(3)],
      [
        { type: 'message', channel, data: 2, from: 'eve', offset: 2, epoch },
        { type: 'message', channel, data: 3, from: 'eve', offset: 3, epoch },
        { type: 'ok', id: 's3', recovered: true, offset: 3, epoch },
      ],
    );
    back.send({ type: 'history', id: 'h', channel, since: { offset: 2, epoch }, limit: 10 });
    assert.deepEqual(await back.message(4), {
      type: 'history',
      id: 'h',
      channel,
      publications: [{ data: 3, from: 'eve', offset: 3 }],
      offset: 3,
      epoch,
      complete: true,
    });
    back.send({ type: 'presence_stats', id: 'ps', channel });
    assert.deepEqual(await back.message(5), { type: 'presence_stats', id: 'ps', channel, connections: 1, users: 1 });
    back.send({ type: 'subscribe', id: 's4', channel: 'chat:other', since: { offset: -1, epoch } });
    assert.deepEqual(await back.message(6), { type: 'error', id: 's4', code: 'invalid_position' });
    back.close();
    eve.close();
    await Promise.all([back.closeCode(), eve.closeCode()]);
  });

  it('serves the demo pages with a CSP that forbids inline script', async () => {
    const t = target();
    const index = await request(`${t.origin}/`, { ca: t.ca });
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /text\/html/);
    assert.match(String(index.headers['content-security-policy']), /script-src 'self'(;|$)/);
    const script = await request(`${t.origin}/client.js`, { ca: t.ca });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    assert.equal((await request(`${t.origin}/..%2fpackage.json`, { ca: t.ca })).status, 404);
  });

  it("DNS rebinding: a Host that is not one of the server's names gets 421 (upgrade and pages), never a 101; its other name is served", async () => {
    const t = target();
    const { port, protocol } = new URL(t.origin);
    const evil = `evil.example:${port}`;
    const rebound = new TestSocket(t.wsUrl, { origin: `${protocol}//${evil}`, headers: { host: evil }, ca: t.ca });
    await assert.rejects(rebound.opened, /upgrade refused: 421/);
    const loginRes = await request(`${t.origin}/auth/login`, {
      method: 'POST',
      headers: { host: evil, origin: `${protocol}//${evil}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo' }),
      ca: t.ca,
      servername: 'localhost',
    });
    assert.equal(loginRes.status, 421);
    assert.deepEqual(loginRes.json(), { error: 'unknown_host' });
    assert.equal((await request(`${t.origin}/client.html`, { headers: { host: evil }, ca: t.ca, servername: 'localhost' })).status, 421);
    // A loopback listener also answers to localhost, and its pages there are "self".
    assert.equal(
      (await request(`${t.origin}/client.html`, { headers: { host: `localhost:${port}` }, ca: t.ca, servername: 'localhost' })).status,
      200,
    );
    const viaLocalhost = new TestSocket(t.wsUrl, {
      origin: `${protocol}//localhost:${port}`,
      headers: { host: `localhost:${port}` },
      ca: t.ca,
    });
    await viaLocalhost.opened;
    viaLocalhost.close();
    // Probes are not name-checked: an orchestrator addresses an instance by whatever name it has.
    assert.equal((await request(`${t.origin}/healthz`, { headers: { host: evil }, ca: t.ca, servername: 'localhost' })).status, 200);
  });

  it('refuses a ticket to an origin that may not open /ws (403 origin_not_allowed) and cross-site simple requests (415)', async () => {
    const t = target();
    const cookie = await login(t);
    for (const origin of ['http://evil.example', 'null']) {
      const res = await request(`${t.origin}/auth/ticket`, { ...JSON_POST(cookie, { origin }), ca: t.ca });
      assert.equal(res.status, 403, origin);
      assert.deepEqual(res.json(), { error: 'origin_not_allowed' });
    }
    const textPlain = await request(`${t.origin}/auth/ticket`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'text/plain' },
      body: '{}',
      ca: t.ca,
    });
    assert.equal(textPlain.status, 415);
    const simpleRequests: Array<Record<string, string>> = [{ cookie }, { cookie, 'content-type': 'text/plain', origin: t.origin }];
    for (const headers of simpleRequests) {
      assert.equal((await request(`${t.origin}/auth/logout`, { method: 'POST', headers, ca: t.ca })).status, 415);
    }
    const crossSiteLogout = await request(`${t.origin}/auth/logout`, { ...JSON_POST(cookie, { origin: 'http://evil.example' }), ca: t.ca });
    assert.equal(crossSiteLogout.status, 403);
    assert.equal(
      (await request(`${t.origin}/auth/ticket`, { ...JSON_POST(cookie, { origin: t.origin }), ca: t.ca })).status,
      201,
      'still logged in, and its own origin gets tickets',
    );
  });

  it('slides the session: a later ticket request announces a later sessionExp, which is the exp of auth.ok; GET /auth/session reads it', async () => {
    const t = target();
    const cookie = await login(t);
    const first = await request(`${t.origin}/auth/ticket`, { ...JSON_POST(cookie), ca: t.ca });
    const firstExp = first.json<{ sessionExp: number }>().sessionExp;
    issuedSecrets.push(first.json<{ ticket: string }>().ticket);
    await sleep(1_100);
    const second = await request(`${t.origin}/auth/ticket`, { ...JSON_POST(cookie), ca: t.ca });
    assert.equal(second.status, 201);
    const issued = second.json<{ ticket: string; expiresIn: number; sessionExp: number }>();
    issuedSecrets.push(issued.ticket);
    assert.ok(issued.sessionExp > firstExp, `${issued.sessionExp} > ${firstExp}`);
    const socket = connect(t);
    await socket.opened;
    socket.send({ type: 'auth', ticket: issued.ticket });
    assert.equal((await socket.message(0)).exp, issued.sessionExp);
    const session = await request(`${t.origin}/auth/session`, { headers: { cookie }, ca: t.ca });
    assert.equal(session.status, 200);
    assert.equal(session.headers['cache-control'], 'no-store');
    assert.deepEqual(session.json(), { sub: 'demo', exp: issued.sessionExp });
    assert.equal((await request(`${t.origin}/auth/session`, { ca: t.ca })).status, 401);
    socket.close();
  });

  it('after a refresh onto another login session, revocation follows the socket there', async () => {
    const t = target();
    const oldSession = await login(t);
    const newSession = await login(t);
    const socket = await authenticated(t, oldSession);
    socket.send({ type: 'refresh', id: 'r', ticket: await ticket(t, newSession) });
    assert.equal((await socket.message(1)).type, 'session.refreshed');
    assert.equal((await request(`${t.origin}/auth/logout`, { ...JSON_POST(oldSession), ca: t.ca })).status, 204);
    socket.send({ type: 'ping', id: 'still' });
    assert.deepEqual(await socket.message(2), { type: 'pong', id: 'still' }, 'logging out the old session no longer ends it');
    assert.equal((await request(`${t.origin}/auth/logout`, { ...JSON_POST(newSession), ca: t.ca })).status, 204);
    assert.deepEqual(await socket.closeCode(), { code: 4409, reason: 'session revoked' });
  });
}
