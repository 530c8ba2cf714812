/**
 * What a Redis restart must not break, with instances on Node, Bun and
 * Deno against one real redis-server run without persistence:
 * - Redis restarted empty: the sockets still open keep counting toward the per-user cap, because
 *   every instance writes its live leases back before it reports ready again.
 * - Redis down long enough for the verification breaker to open, then back: from the moment
 *   /readyz answers 200 again, a new socket authenticates (readiness follows the breaker, and the
 *   breaker probes as soon as Redis is back instead of waiting out its cool-down).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, issuedSecrets, ticket } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  OPEN_LIMITS,
  assertCleanOutput,
  authWith,
  authenticatedOn,
  call,
  demoUsers,
  get,
  loginAs,
  logLines,
  sleep,
  startInstance,
  waitForReady,
  type Instance,
} from './support.ts';

const CAP = 10;
/** Long enough that only the probe, not the cool-down, can close the breaker within this test. */
const COOLDOWN = '60s';

describe('Redis restarts under three instances (Node, Bun, Deno)', () => {
  let redis: RedisServer;
  let instances: Instance[] = [];
  const open: TestSocket[] = [];

  before(async () => {
    redis = await startRedis();
    const args = [
      '--redis-url',
      redis.url,
      ...OPEN_LIMITS,
      '--max-connections-per-user',
      String(CAP),
      '--breaker-cooldown',
      COOLDOWN,
      '--demo-users',
      demoUsers(['capped', 'late']),
    ];
    instances = await Promise.all([startInstance('A', 'node', args), startInstance('B', 'bun', args), startInstance('C', 'deno', args)]);
    await Promise.all(instances.map((instance) => waitForReady(instance)));
  });

  after(async () => {
    for (const socket of open) socket.raw.terminate();
    await Promise.all(instances.map((instance) => instance.server.stop()));
    await redis?.stop();
  });

  it('6. after Redis restarts empty, the open sockets still count: a user at the cap gets 4430, on every instance', async () => {
    const [A] = instances as [Instance, Instance, Instance];
    const cookie = await loginAs(A, 'capped');
    for (let i = 0; i < CAP; i++) {
      const home = instances[i % instances.length]!;
      open.push(await authenticatedOn('capped', A, home, A, cookie));
    }
    const before11 = await authWith(instances[1]!, await ticket(A, cookie));
    assert.deepEqual([before11.ok, before11.code], [false, 4430], 'the cap holds before the restart');

    await redis.restart(); // SIGTERM and start again: no persistence, so every key (leases, sessions) is gone
    await Promise.all(instances.map((instance) => waitForReady(instance, 200, 15_000)));

    // The session went with Redis: a new login, then CAP more sockets spread over the instances.
    const fresh = await loginAs(A, 'capped');
    const outcomes: (number | 'ok')[] = [];
    for (let i = 0; i < CAP; i++) {
      const home = instances[i % instances.length]!;
      const attempt = await authWith(home, await ticket(home, fresh));
      if (attempt.ok) open.push(attempt.socket);
      outcomes.push(attempt.ok ? 'ok' : attempt.code!);
    }
    console.log(`# redis restarted empty: ${CAP} more sockets for a user at the cap: ${JSON.stringify(outcomes)}`);
    assert.deepEqual(outcomes, Array(CAP).fill(4430), 'every open socket still counts toward the cap');
    // The sockets from before the restart were never disturbed.
    for (const [i, socket] of open.slice(0, CAP).entries())
      assert.deepEqual(await call(socket, { type: 'ping', id: i }), { type: 'pong', id: i });
    for (const instance of instances) {
      assert.ok(
        logLines(instance, 'connection leases were missing in redis; written back').length > 0,
        `${instance.name} wrote its leases back`,
      );
    }
    for (const socket of open.splice(0)) socket.close();
  });

  it('5. Redis down 5 s with the breaker open, then back: from the moment /readyz is 200 again, a new socket authenticates', async () => {
    await redis.kill();
    const killedAt = Date.now();
    await Promise.all(instances.map((instance) => waitForReady(instance, 503, 5_000)));
    // Sockets keep arriving during the outage: each verification fails (1013) until the breaker opens.
    for (const instance of instances) {
      for (let i = 0; i < 8 && logLines(instance, 'breaker.state').length === 0; i++) {
        const socket = connect(instance);
        await socket.opened;
        socket.send({ type: 'auth', ticket: 'A'.repeat(43) });
        assert.equal((await socket.closeCode()).code, 1013);
      }
      assert.equal(logLines(instance, 'breaker.state').at(-1)?.state, 'open', `${instance.name}: the breaker opened`);
    }
    await sleep(Math.max(0, 5_000 - (Date.now() - killedAt)));
    await redis.restart();

    const results = await Promise.all(
      instances.map(async (instance) => {
        const readyAfter = await waitForReady(instance, 200, 20_000); // ms after Redis answered again
        // The moment readiness says yes: a client logs in, gets a ticket and opens its socket here.
        const cookie = await loginAs(instance, 'late');
        const attempt = await authWith(instance, await ticket(instance, cookie));
        if (attempt.ok) open.push(attempt.socket);
        const health = (await get(instance, '/healthz')).status;
        return { name: instance.name, readyAfterMs: readyAfter, outcome: attempt.ok ? 'auth.ok' : attempt.code, health };
      }),
    );
    console.log(`# redis back after 5 s with the breaker open (cool-down ${COOLDOWN}): ${JSON.stringify(results)}`);
    for (const result of results)
      assert.equal(result.outcome, 'auth.ok', `${result.name}: /readyz said 200 but a new socket got ${result.outcome}`);
    for (const instance of instances) {
      const states = logLines(instance, 'breaker.state').map((line) => line.state);
      assert.equal(states.at(-1), 'closed', `${instance.name}: ${states.join(' → ')}`);
      assertCleanOutput(instance, issuedSecrets);
    }
    const res = await request(`${instances[0]!.origin}/readyz`);
    assert.deepEqual(res.json(), { status: 'ready', backend: 'redis' });
  });
});
