/**
 * The gateway when Redis is unreachable from the start, and when Redis dies (SIGKILL) under
 * running instances and comes back on the same port: fail closed, keep local traffic, recover by
 * itself (readiness, the subscriptions made before the outage, new logins).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { connect, issuedSecrets, ticket } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { REDIS_SERVER, closedPortUrl, startRedis, type RedisServer } from '../support/redis-server.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  OPEN_LIMITS,
  assertCleanOutput,
  authWith,
  authenticatedOn,
  call,
  deliveries,
  demoUsers,
  get,
  loginAs,
  sleep,
  startInstance,
  subscribe,
  until,
  waitForReady,
  type Instance,
} from './support.ts';

const USERS = ['pub', 'sub', 'late', 'probe'];
const json = { 'content-type': 'application/json' };

describe('Redis unreachable at start (Node, Bun, Deno)', () => {
  const instances: Instance[] = [];
  let url: string;
  let late: ChildProcess | undefined;

  before(async () => {
    url = await closedPortUrl();
    const args = ['--redis-url', url, ...OPEN_LIMITS, '--demo-users', demoUsers(USERS)];
    // startInstance resolves only once the "listening" log line has appeared.
    instances.push(
      ...(await Promise.all([startInstance('node', 'node', args), startInstance('bun', 'bun', args), startInstance('deno', 'deno', args)])),
    );
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.server.stop()));
    if (late !== undefined && late.exitCode === null && late.signalCode === null) {
      const exited = once(late, 'exit');
      late.kill('SIGTERM');
      await exited;
    }
  });

  it('7. starts, /healthz 200, /readyz 503, login 503, a ticket-less auth closes 1013; alive after 3 s, nothing unhandled', async () => {
    const answers: Record<string, number> = {};
    for (const instance of instances) {
      assert.equal((await get(instance, '/healthz')).status, 200, instance.name);
      const ready = await get(instance, '/readyz');
      assert.equal(ready.status, 503, instance.name);
      assert.deepEqual(ready.json(), { status: 'backend_unavailable', backend: 'redis' });
      const loginRes = await request(`${instance.origin}/auth/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ username: 'probe', password: 'pw-probe' }),
      });
      assert.equal(loginRes.status, 503, `${instance.name} login: ${loginRes.body}`);
      assert.deepEqual(loginRes.json(), { error: 'unavailable' });

      const socket = connect(instance);
      await socket.opened;
      socket.send({ type: 'auth', ticket: 'A'.repeat(43) });
      socket.send({ type: 'echo', id: 1, data: 'must not come back' });
      const closed = await socket.closeCode();
      answers[instance.name] = closed.code;
      // A ticket that cannot be looked up is "auth service unavailable" (fail closed), not "rejected".
      assert.equal(closed.code, 1013, `${instance.name}: ${JSON.stringify(closed)}`);
      assert.deepEqual(socket.messages, []);
    }
    console.log(`# redis unreachable at start: forged-ticket auth closes with ${JSON.stringify(answers)}`);
    await sleep(3_000);
    for (const instance of instances) {
      assert.equal(instance.server.child.exitCode, null, `${instance.name} exited`);
      assert.equal(instance.server.child.signalCode, null, `${instance.name} was killed`);
      assert.equal((await get(instance, '/healthz')).status, 200);
      assertCleanOutput(instance);
    }
  });

  it('7b. when Redis appears later on that port, every instance becomes ready and shares state (logout fans out)', async () => {
    const port = new URL(url).port;
    late = spawn(
      REDIS_SERVER,
      ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir(), '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    const waited = await Promise.all(instances.map((instance) => waitForReady(instance, 200, 12_000)));
    console.log(
      `# redis appeared later: /readyz 200 after ${JSON.stringify(Object.fromEntries(instances.map((i, k) => [i.name, waited[k]])))} ms`,
    );
    const [node, bun, deno] = instances as [Instance, Instance, Instance];
    const cookie = await loginAs(node, 'probe');
    const onBun = await authenticatedOn('probe', node, bun, deno, cookie);
    const res = await request(`${deno.origin}/auth/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 204);
    assert.equal((await onBun.closeCode()).code, 4409, 'the revocation bus subscribed once Redis came up');
    for (const instance of instances) assertCleanOutput(instance, issuedSecrets);
  });
});

describe('Redis killed (SIGKILL) under two running instances, then restarted on the same port', () => {
  let redis: RedisServer;
  let A: Instance;
  let B: Instance;
  const open: TestSocket[] = [];

  before(async () => {
    redis = await startRedis();
    const args = ['--redis-url', redis.url, ...OPEN_LIMITS, '--demo-users', demoUsers(USERS)];
    [A, B] = await Promise.all([startInstance('A', 'node', args), startInstance('B', 'bun', args)]);
    await Promise.all([waitForReady(A), waitForReady(B)]);
  });

  after(async () => {
    for (const socket of open) socket.raw.terminate();
    await Promise.all([A?.server.stop(), B?.server.stop()]);
    await redis?.stop();
  });

  it('8. local traffic survives, shared operations fail closed, everything recovers after the restart', async () => {
    const channel = 'chat:resilience';
    const subscriber = await authenticatedOn('sub', B);
    const publisher = await authenticatedOn('pub', A);
    open.push(subscriber, publisher);
    await subscribe(subscriber, channel);
    const before = await call(publisher, { type: 'publish', id: 'before', channel, data: 'before' });
    assert.deepEqual([before.type, before.offset], ['ok', 1]);
    await until(() => deliveries(subscriber, channel).length === 1, 5_000, 'the delivery before the outage');
    // Prepared while Redis is up, used while it is down.
    const lateCookie = await loginAs(A, 'late');
    const pendingTicket = await ticket(A, lateCookie);

    await redis.kill();
    const killedAt = Date.now();
    await Promise.all([waitForReady(A, 503, 5_000), waitForReady(B, 503, 5_000)]);
    console.log(`# redis killed: /readyz 503 on both after ≤ ${Date.now() - killedAt} ms`);

    // Local traffic keeps working on both instances.
    assert.deepEqual(await call(publisher, { type: 'echo', id: 'e1', data: 'local' }), { type: 'echo', id: 'e1', data: 'local' });
    assert.deepEqual(await call(subscriber, { type: 'ping', id: 'p1' }), { type: 'pong', id: 'p1' });
    // A publish cannot reach other instances: an error reply, the socket stays open.
    assert.deepEqual(await call(publisher, { type: 'publish', id: 'down', channel, data: 'lost' }), {
      type: 'error',
      id: 'down',
      code: 'unavailable',
    });
    // A new subscription cannot be made reliably either.
    assert.deepEqual(await call(publisher, { type: 'subscribe', id: 'sub-down', channel: 'chat:other' }), {
      type: 'error',
      id: 'sub-down',
      code: 'unavailable',
    });
    // New auths fail closed: a valid ticket issued before the outage cannot be checked → 1013, on both runtimes.
    for (const instance of [A, B]) {
      const attempt = await authWith(instance, pendingTicket);
      assert.deepEqual([attempt.ok, attempt.code], [false, 1013], instance.name);
    }
    // The HTTP side of the auth service answers 503, not 500 or a hang.
    for (const instance of [A, B]) {
      const loginRes = await request(`${instance.origin}/auth/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ username: 'late', password: 'pw-late' }),
      });
      assert.equal(loginRes.status, 503, `${instance.name} login`);
      const ticketRes = await request(`${instance.origin}/auth/ticket`, {
        method: 'POST',
        headers: { ...json, cookie: lateCookie },
        body: '{}',
      });
      assert.equal(ticketRes.status, 503, `${instance.name} ticket`);
      assert.equal((await get(instance, '/healthz')).status, 200);
    }
    assert.deepEqual(
      deliveries(subscriber, channel).map((m) => m.data),
      ['before'],
      'nothing leaked through during the outage',
    );

    // Stay down long enough for the clients' reconnect backoff to grow past its first steps.
    await sleep(Math.max(0, 2_500 - (Date.now() - killedAt)));
    await redis.restart();
    const restartedAt = Date.now();
    await Promise.all([waitForReady(A, 200, 10_000), waitForReady(B, 200, 10_000)]);
    console.log(`# redis restarted: /readyz 200 on both after ${Date.now() - restartedAt} ms`);

    // The subscription made before the kill (on B, Bun) gets a message published on A (Node) after the restart.
    // Redis lost the channel's stream (no persistence): a new epoch, and the subscriber is told so first.
    const after = await call(publisher, { type: 'publish', id: 'after', channel, data: 'after' });
    assert.deepEqual([after.type, after.offset], ['ok', 1]);
    assert.notEqual(after.epoch, before.epoch);
    await until(() => deliveries(subscriber, channel).length === 2, 5_000, 'the delivery after the restart');
    assert.deepEqual(
      subscriber.messages.filter((m) => m.type === 'message' || m.type === 'resync').map((m) => [m.type, m.data ?? null, m.epoch]),
      [
        ['message', 'before', before.epoch],
        ['resync', null, after.epoch],
        ['message', 'after', after.epoch],
      ],
    );
    // Redis lost its data (no persistence): the old session is gone, a new login + auth works.
    const fresh = await authenticatedOn('late', B, A, B);
    open.push(fresh);
    assert.deepEqual(await call(fresh, { type: 'echo', id: 'e2', data: 'back' }), { type: 'echo', id: 'e2', data: 'back' });

    await sleep(100);
    for (const instance of [A, B]) assertCleanOutput(instance, issuedSecrets);
    for (const socket of [subscriber, publisher, fresh]) socket.close();
  });

  // KNOWN BUG (reported, src/ not changed here): after Redis lost its data, POST /auth/logout answers 204
  // but leaves the sockets of that session open (until the session's exp, 8 h by default), because
  // the logout route only revokes when it still finds the session record. The sid is SHA-256 of the
  // cookie token, so it can be revoked without the record.
  it("8b. a logout after Redis lost its data (restart, no persistence) still closes the session's sockets with 4409", async () => {
    const cookie = await loginAs(A, 'probe');
    const socket = await authenticatedOn('probe', A, B, A, cookie);
    open.push(socket);
    await redis.restart(); // SIGTERM + start: with --save "" every session is gone
    await Promise.all([waitForReady(A, 200, 10_000), waitForReady(B, 200, 10_000)]);
    const res = await request(`${A.origin}/auth/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 204);
    const closed = await Promise.race([socket.closed, sleep(3_000).then(() => null)]);
    const stillServed = closed === null ? await call(socket, { type: 'echo', id: 'x', data: 'after logout' }).catch(() => null) : null;
    assert.deepEqual(
      closed,
      { code: 4409, reason: 'session revoked' },
      `after logout the socket is still open and served: ${JSON.stringify(stillServed)}`,
    );
  });
});
