/**
 * Three gateway instances as separate processes (A on Node, B on Bun, C on Deno) against one real
 * redis-server: pub/sub fan-out, shared sessions and tickets, concurrent replay, logout, the
 * cluster-wide per-user cap and the admin kick all hold across instances and runtimes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, issuedSecrets, ticket } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  ADMIN_TOKEN,
  OPEN_LIMITS,
  assertCleanOutput,
  authWith,
  authenticatedOn,
  call,
  deliveries,
  demoUsers,
  loginAs,
  settle,
  sleep,
  startInstance,
  subscribe,
  until,
  waitForReady,
  type Instance,
} from './support.ts';

const FANOUT_USERS = Array.from({ length: 50 }, (_, i) => `f${i}`);
const USERS = ['pub', 'sa', 'sb', 'sc', 'cross', 'replay', 'alice', 'bob', 'capper', 'eve', 'other', ...FANOUT_USERS];

describe('three instances (Node, Bun, Deno) on one Redis', () => {
  let redis: RedisServer;
  let A: Instance;
  let B: Instance;
  let C: Instance;
  const open: TestSocket[] = [];
  const track = (socket: TestSocket) => (open.push(socket), socket);

  before(async () => {
    redis = await startRedis();
    const args = [
      '--redis-url',
      redis.url,
      ...OPEN_LIMITS,
      '--max-connections-per-user',
      '3',
      '--admin-token',
      ADMIN_TOKEN,
      '--demo-users',
      demoUsers(USERS),
    ];
    [A, B, C] = await Promise.all([startInstance('A', 'node', args), startInstance('B', 'bun', args), startInstance('C', 'deno', args)]);
    await Promise.all([A, B, C].map((instance) => waitForReady(instance)));
  });

  after(async () => {
    for (const socket of open) socket.raw.terminate();
    await Promise.all([A, B, C].map((instance) => instance?.server.stop()));
    await redis?.stop();
  });

  it('1a. a publish on A reaches subscribers on A, B and C, with from', async () => {
    const subs = [track(await authenticatedOn('sa', A)), track(await authenticatedOn('sb', B)), track(await authenticatedOn('sc', C))];
    for (const socket of subs) await subscribe(socket, 'chat:x');
    const publisher = track(await authenticatedOn('pub', A));
    const ok = await call(publisher, { type: 'publish', id: 'p1', channel: 'chat:x', data: { text: 'hello cluster' } });
    assert.deepEqual(ok, { type: 'ok', id: 'p1', offset: 1, epoch: ok.epoch }); // stored (chat keeps history), then notified
    await until(() => subs.every((s) => deliveries(s, 'chat:x').length === 1), 5_000, 'a delivery on every instance');
    for (const socket of subs)
      assert.deepEqual(deliveries(socket, 'chat:x'), [
        { type: 'message', channel: 'chat:x', data: { text: 'hello cluster' }, from: 'pub', offset: 1, epoch: ok.epoch },
      ]);
    for (const socket of [...subs, publisher]) socket.close();
  });

  it('1b. fan-out: 1 publisher on A, 100 subscribers on B and C, 200 publishes — every message, in order', async () => {
    const channel = 'chat:fanout';
    const subscribers: TestSocket[] = [];
    await Promise.all(
      FANOUT_USERS.map(async (user, i) => {
        const home = i % 2 === 0 ? B : C;
        const cookie = await loginAs(home, user);
        for (const target of [B, C]) subscribers.push(track(await authenticatedOn(user, home, target, home, cookie)));
      }),
    );
    assert.equal(subscribers.length, 100);
    await Promise.all(subscribers.map((socket) => subscribe(socket, channel)));
    let lastArrival = 0;
    for (const socket of subscribers) socket.raw.on('message', () => (lastArrival = performance.now()));

    const publisher = track(await authenticatedOn('pub', A));
    const COUNT = 200;
    const started = performance.now();
    for (let seq = 0; seq < COUNT; seq++) publisher.send({ type: 'publish', id: seq, channel, data: { seq } });
    const expected = COUNT * subscribers.length;
    await until(() => subscribers.every((s) => deliveries(s, channel).length >= COUNT), 30_000, `${expected} deliveries`);
    const seconds = (lastArrival - started) / 1000;

    const acks = publisher.messages.filter((m) => m.type === 'ok').map((m) => m.id);
    assert.deepEqual(
      acks,
      Array.from({ length: COUNT }, (_, i) => i),
      'every publish acknowledged, in order',
    );
    for (const socket of subscribers) {
      const got = deliveries(socket, channel);
      assert.equal(got.length, COUNT);
      assert.deepEqual(
        got.map((m) => (m.data as { seq: number }).seq),
        Array.from({ length: COUNT }, (_, i) => i),
        'in publish order',
      );
      assert.ok(got.every((m) => m.from === 'pub'));
    }
    const rate = Math.round(expected / seconds);
    console.log(
      `# fan-out: ${COUNT} publishes on A (node) × ${subscribers.length} subscribers on B (bun) + C (deno) = ${expected} deliveries in ${(seconds * 1000).toFixed(0)} ms → ${rate} deliveries/s`,
    );
    for (const socket of [...subscribers, publisher]) socket.close();
  });

  it('2. login on A, ticket from B, auth on C (shared sessions and tickets)', async () => {
    const socket = track(await authenticatedOn('cross', A, C, B));
    assert.equal(socket.messages[0]!.sub, 'cross');
    assert.deepEqual(await call(socket, { type: 'echo', id: 'e', data: 'via C' }), { type: 'echo', id: 'e', data: 'via C' });
    socket.close();
  });

  it('3. one ticket redeemed concurrently on A, B and C: exactly one auth.ok, two 4401 (20 rounds)', async () => {
    const cookie = await loginAs(A, 'replay');
    const winners: Record<string, number> = { A: 0, B: 0, C: 0 };
    for (let round = 0; round < 20; round++) {
      const tk = await ticket([A, B, C][round % 3]!, cookie);
      const sockets = [A, B, C].map((instance) => track(connect(instance)));
      await Promise.all(sockets.map((s) => s.opened));
      const frame = JSON.stringify({ type: 'auth', ticket: tk });
      // Same tick, send order rotated each round so that no instance always goes first.
      for (let k = 0; k < 3; k++) sockets[(round + k) % 3]!.raw.send(frame);
      const results = await Promise.all(sockets.map((s) => settle(s)));
      const oks = results.filter((r) => r.ok);
      assert.equal(oks.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.ok || r.code))}`);
      assert.deepEqual(
        results.filter((r) => !r.ok).map((r) => r.code),
        [4401, 4401],
        `round ${round}`,
      );
      winners[['A', 'B', 'C'][results.findIndex((r) => r.ok)]!]! += 1;
      oks[0]!.socket.close();
      await oks[0]!.socket.closeCode();
    }
    console.log(`# replay: 20 rounds, winner per instance ${JSON.stringify(winners)}`);
  });

  it("4. logout on B closes the session's sockets on A and C with 4409; another session stays open", async () => {
    const cookie = await loginAs(A, 'alice');
    const onA = track(await authenticatedOn('alice', A, A, A, cookie));
    const onC = track(await authenticatedOn('alice', A, C, C, cookie));
    const otherSession = track(await authenticatedOn('alice', B, B));
    const res = await request(`${B.origin}/auth/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 204);
    assert.deepEqual(await onA.closeCode(), { code: 4409, reason: 'session revoked' });
    assert.deepEqual(await onC.closeCode(), { code: 4409, reason: 'session revoked' });
    assert.deepEqual(await call(otherSession, { type: 'echo', id: 1, data: 'still here' }), { type: 'echo', id: 1, data: 'still here' });
    // And the session is gone everywhere: no new ticket from any instance.
    for (const instance of [A, B, C]) {
      const refused = await request(`${instance.origin}/auth/ticket`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(refused.status, 401, instance.name);
    }
    otherSession.close();
  });

  it('5. per-user cap 3 across instances: 5 concurrent attempts → 3 auth.ok, 2 × 4430; closing one frees a slot', async () => {
    const cookie = await loginAs(A, 'capper');
    const where = [A, B, C, A, B];
    const tickets = await Promise.all(where.map((instance) => ticket(instance, cookie)));
    const sockets = where.map((instance) => track(connect(instance)));
    await Promise.all(sockets.map((s) => s.opened));
    sockets.forEach((socket, i) => socket.send({ type: 'auth', ticket: tickets[i] }));
    const results = await Promise.all(sockets.map((s) => settle(s)));
    const oks = results.filter((r) => r.ok);
    assert.equal(oks.length, 3, JSON.stringify(results.map((r) => r.ok || r.code)));
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => r.code),
      [4430, 4430],
    );

    oks[0]!.socket.close();
    await oks[0]!.socket.closeCode();
    // The slot is released asynchronously after the close; give it a bounded moment.
    let attempt = 0;
    let last: Awaited<ReturnType<typeof authWith>> | undefined;
    for (; attempt < 20; attempt++) {
      last = await authWith(C, await ticket(C, cookie));
      track(last.socket);
      if (last.ok) break;
      assert.equal(last.code, 4430);
      await sleep(100);
    }
    assert.ok(last?.ok, 'a new socket succeeds once a slot is free');
    console.log(`# cap: freed slot reused on attempt ${attempt + 1}`);
    for (const r of [...oks.slice(1), last!]) r.socket.close();
  });

  it("6. admin kick on C closes eve's sockets on A and B with 4503; others stay open", async () => {
    const eveA = track(await authenticatedOn('eve', A));
    const eveB = track(await authenticatedOn('eve', B));
    const bystander = track(await authenticatedOn('other', A));
    const unauthorised = await request(`${C.origin}/admin/users/eve/close`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-token' },
    });
    assert.equal(unauthorised.status, 401);
    const res = await request(`${C.origin}/admin/users/eve/close`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json(), { closed: 0, instances: 'all' });
    assert.deepEqual(await eveA.closeCode(), { code: 4503, reason: 'closed by administrator' });
    assert.deepEqual(await eveB.closeCode(), { code: 4503, reason: 'closed by administrator' });
    assert.deepEqual(await call(bystander, { type: 'ping', id: 'p' }), { type: 'pong', id: 'p' });
    bystander.close();
  });

  it('no instance logged an unhandled error or a secret', async () => {
    await sleep(200);
    for (const instance of [A, B, C]) assertCleanOutput(instance, [...issuedSecrets, ADMIN_TOKEN]);
  });
});
