/**
 * Recovery and presence across instances on one redis-server, with raw protocol clients:
 * - a client away while 300 messages are published comes back (on another instance) with `since`
 *   and gets exactly those 300, in order, then live ones, `recovered: true`; past the history
 *   window, `recovered: false` and nothing replayed;
 * - presence lists the right users on every instance, join/leave reach the others, and a
 *   SIGKILLed instance's entries are gone within --presence-lease, and its subscribers' leave is told once;
 * - an instance SIGKILLed under a running publish: its clients reconnect elsewhere with `since`
 *   and end up with every acknowledged publication exactly once, in order;
 * - bad positions and limits get their error replies and the socket stays open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issuedSecrets } from '../support/flow.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  assertExactlyOnceInOrder,
  delivered,
  namespacesConfig,
  publishPaced,
  sockets,
  startAll,
  subscribeAt,
  type Outcome,
} from './delivery-support.ts';
import { OPEN_LIMITS, assertCleanOutput, call, demoUsers, sleep, until, waitForReady, type Instance } from './support.ts';

const LEASE_MS = 3000;
const HISTORY = 1000; // chat's history-size in namespacesConfig()

describe('recovery and presence across instances (Node, Bun, Deno on one Redis)', () => {
  let redis: RedisServer;
  let instances: Instance[] = [];
  const open: TestSocket[] = [];
  const keep = (s: TestSocket[]) => (open.push(...s), s);
  const A = () => instances[0]!;
  const B = () => instances[1]!;
  const C = () => instances[2]!;

  before(async () => {
    redis = await startRedis();
    const args = [
      '--redis-url',
      redis.url,
      '--config',
      namespacesConfig(),
      ...OPEN_LIMITS,
      '--max-connections-per-user',
      '1000',
      '--presence-lease',
      `${LEASE_MS}ms`,
      '--demo-users',
      demoUsers(['pub', 'sub', 'u1', 'u2', 'u3']),
    ];
    instances = await startAll(['node', 'bun', 'deno'], args);
    await Promise.all(instances.map((instance) => waitForReady(instance)));
  });

  after(async () => {
    for (const socket of open) socket.raw.terminate();
    await Promise.all(instances.map((instance) => instance.server.stop()));
    await redis?.stop();
  });

  it('away while 300 are published: back on another instance with since, exactly those 300 in order, then live; recovered true', async () => {
    const [pub] = keep(await sockets(A(), 'pub', 1));
    const [away] = keep(await sockets(B(), 'sub', 1));
    const channel = 'chat:away';
    await subscribeAt(away!, channel);
    await publishPaced(pub!, channel, 5, 1000);
    await until(() => delivered(away!, channel).length === 5, 5000, 'the first 5');
    const [, offset, epoch] = delivered(away!, channel).at(-1)!;
    away!.close();
    const missed = await publishPaced(pub!, channel, 300, 100); // ~3 s away
    const [back] = keep(await sockets(C(), 'sub', 1));
    const reply = await subscribeAt(back!, channel, { offset, epoch }, 15_000);
    const replayed = delivered(back!, channel);
    assert.deepEqual(
      replayed.map(([data]) => data),
      missed.map((o) => o.data),
      'exactly the 300, in order, before the ok',
    );
    assert.deepEqual(
      replayed.map(([, o]) => o),
      Array.from({ length: 300 }, (_, i) => offset + 1 + i),
    );
    assert.deepEqual([reply.recovered, reply.offset, reply.epoch], [true, offset + 300, epoch]);
    const live = await publishPaced(pub!, channel, 20, 200);
    await until(() => delivered(back!, channel).length === 320, 5000, 'the live ones');
    assert.deepEqual(
      delivered(back!, channel)
        .slice(300)
        .map(([data]) => data),
      live.map((o) => o.data),
    );
  });

  it(`past the history window (${HISTORY} kept): recovered false, nothing older replayed, live ones follow`, async () => {
    const [pub] = keep(await sockets(A(), 'pub', 1));
    const [away] = keep(await sockets(B(), 'sub', 1));
    const channel = 'chat:window';
    const at = await subscribeAt(away!, channel);
    away!.close();
    await publishPaced(pub!, channel, HISTORY + 100, 500); // paced: more than 256 unprocessed frames would close the socket (1008)
    const [back] = keep(await sockets(C(), 'sub', 1));
    const reply = await subscribeAt(back!, channel, { offset: at.offset as number, epoch: at.epoch as string });
    assert.deepEqual([reply.recovered, reply.offset], [false, HISTORY + 100]);
    assert.equal(delivered(back!, channel).length, 0, 'nothing replayed');
    await publishPaced(pub!, channel, 1, 100);
    await until(() => delivered(back!, channel).length === 1, 5000, 'a live one');
    assert.equal(delivered(back!, channel)[0]![1], HISTORY + 101);
  });

  it(`presence lists the right users on every instance; join and leave reach the others; a killed instance's entries are gone within the lease (${LEASE_MS} ms) and their leave is told once`, async () => {
    const channel = 'chat:presence';
    const [u1] = keep(await sockets(A(), 'u1', 1));
    const [u2] = keep(await sockets(B(), 'u2', 1));
    const [u3] = keep(await sockets(C(), 'u3', 1));
    for (const s of [u1!, u2!, u3!]) await subscribeAt(s, channel);
    const [asker] = keep(await sockets(A(), 'sub', 1));
    for (const [i, instance] of instances.entries()) {
      const [s] = keep(await sockets(instance, 'sub', 1));
      const list = await call(s!, { type: 'presence', id: `p${i}`, channel });
      assert.deepEqual((list.clients as { sub: string }[]).map((c) => c.sub).sort(), ['u1', 'u2', 'u3'], `presence on ${instance.name}`);
      assert.equal(list.total, 3);
      const stats = await call(s!, { type: 'presence_stats', id: `s${i}`, channel });
      assert.deepEqual([stats.connections, stats.users], [3, 3]);
    }
    await until(() => u1!.messages.filter((m) => m.type === 'join').length === 2, 5000, 'joins at u1');
    assert.deepEqual(
      u1!.messages
        .filter((m) => m.type === 'join')
        .map((m) => m.sub)
        .sort(),
      ['u2', 'u3'],
    );
    await call(u2!, { type: 'unsubscribe', id: 'bye', channel });
    await until(() => u1!.messages.some((m) => m.type === 'leave' && m.sub === 'u2'), 5000, 'leave at u1');

    C().server.child.kill('SIGKILL');
    const killedAt = Date.now();
    let gone = 0;
    for (;;) {
      const list = await call(asker!, { type: 'presence', id: `k${Date.now()}`, channel });
      if (!(list.clients as { sub: string }[]).some((c) => c.sub === 'u3')) {
        gone = Date.now() - killedAt;
        break;
      }
      assert.ok(Date.now() - killedAt < LEASE_MS + 2000, 'u3 still listed 2 s past the lease');
      await sleep(50);
    }
    console.log(
      `# presence: the killed instance's entry was gone ${gone} ms after SIGKILL (lease ${LEASE_MS} ms, renewed every ${LEASE_MS / 3} ms)`,
    );
    assert.ok(gone <= LEASE_MS + 250, `gone after ${gone} ms`);
    // The killed instance could not say so; the instance that dropped its entry does: one leave, with u3's connection.
    const u3conn = u1!.messages.find((m) => m.type === 'join' && m.sub === 'u3')!.conn;
    await until(() => u1!.messages.some((m) => m.type === 'leave' && m.sub === 'u3'), LEASE_MS, 'leave for the killed instance’s u3 at u1');
    await sleep(LEASE_MS / 3 + 200); // another renewal round: no second leave
    assert.deepEqual(
      u1!.messages.filter((m) => m.type === 'leave' && m.sub === 'u3').map((m) => m.conn),
      [u3conn],
    );
  });

  it('an instance SIGKILLed under a running publish: its clients reconnect to another with since and miss nothing, get nothing twice', async () => {
    const channel = 'chat:kill';
    const [pub] = keep(await sockets(A(), 'pub', 1));
    const first = keep(await sockets(B(), 'sub', 20));
    const at = new Map<TestSocket, { offset: number; epoch: string }>();
    for (const s of first) {
      const ok = await subscribeAt(s, channel);
      at.set(s, { offset: ok.offset as number, epoch: ok.epoch as string });
    }
    const moved: TestSocket[] = [];
    const reconnects: Promise<void>[] = [];
    const outcomes: Outcome[] = await publishPaced(pub!, channel, 600, 100, (i) => {
      if (i !== 200) return;
      B().server.child.kill('SIGKILL');
      // Each client notices its socket died and comes back on A with its last position.
      for (const s of first)
        reconnects.push(
          (async () => {
            await s.closed;
            const last = delivered(s, channel).at(-1);
            const since = last === undefined ? at.get(s)! : { offset: last[1], epoch: last[2] };
            const [again] = keep(await sockets(A(), 'sub', 1));
            moved[first.indexOf(s)] = again!;
            const reply = await subscribeAt(again!, channel, since, 15_000);
            assert.equal(reply.recovered, true);
          })(),
        );
    });
    await Promise.all(reconnects);
    const acked = outcomes.filter((o) => typeof o.reply !== 'string');
    assert.equal(acked.length, 600, 'the publisher was never refused');
    await until(
      () => moved.every((s) => delivered(s, channel).length > 0 && delivered(s, channel).at(-1)![0] === 600),
      15_000,
      'all 600 everywhere',
    );
    // Per client: what its first socket got, then what its second one got, as one flow.
    const flows = first.map((s, i) => ({ messages: [...s.messages, ...moved[i]!.messages] }) as TestSocket);
    assertExactlyOnceInOrder(flows, channel, acked);
    console.log(`# instance killed after publish 200: ${first.length} clients moved; each got 600 of 600 acknowledged, none twice`);
  });

  it('bad positions and limits over the wire: error replies, the socket stays open', async () => {
    const [s] = keep(await sockets(A(), 'sub', 1));
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ type: 'subscribe', channel: 'chat:bad', since: { offset: -1, epoch: 'e' } }, { code: 'invalid_position' }],
      [{ type: 'subscribe', channel: 'chat:bad', since: { offset: 2 ** 60, epoch: 'e' } }, { code: 'invalid_position' }],
      [{ type: 'subscribe', channel: 'chat:bad', since: { offset: 'ten', epoch: 'e' } }, { code: 'invalid_position' }],
      [{ type: 'subscribe', channel: 'chat:bad', since: { offset: 1, epoch: 'x'.repeat(65) } }, { code: 'invalid_position' }],
      [{ type: 'history', channel: 'chat:bad', limit: 1001 }, { code: 'invalid_limit' }],
      [{ type: 'history', channel: 'chat:bad', limit: 0 }, { code: 'invalid_limit' }],
      [{ type: 'history', channel: 'user:someone-else' }, { code: 'forbidden' }],
      [{ type: 'history', channel: 'user:sub' }, { code: 'history_disabled' }],
      [{ type: 'subscribe', channel: 'user:sub', since: { offset: 0, epoch: 'e' } }, { code: 'recovery_disabled' }],
      [{ type: 'presence', channel: 'user:sub' }, { code: 'presence_disabled' }],
      [
        { type: 'subscribe', channel: 'chat:bad', since: { offset: 5, epoch: 'a-foreign-epoch' } },
        { type: 'ok', recovered: false },
      ],
    ];
    for (const [i, [m, expected]] of cases.entries()) {
      const reply = await call(s!, { ...m, id: `bad${i}` });
      for (const [k, v] of Object.entries(expected)) assert.equal(reply[k], v, `${JSON.stringify(m)} → ${JSON.stringify(reply)}`);
    }
    assert.deepEqual(await call(s!, { type: 'ping', id: 'still' }), { type: 'pong', id: 'still' });
    for (const instance of instances.slice(0, 1)) assertCleanOutput(instance, issuedSecrets);
  });
});
