/**
 * Redis failures, against a real redis-server: unreachable from the start, and killed (SIGKILL)
 * while running then restarted on the same port. Nothing may throw from a constructor, hang, or
 * leave an unhandled rejection; everything must come back by itself.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BrokerMessage } from '../../src/channels/broker.ts';
import { RedisBroker } from '../../src/backends/redis/broker.ts';
import { RedisUserConnections } from '../../src/backends/redis/user-connections.ts';
import { createRedis, pingRedis } from '../../src/backends/redis/connect.ts';
import { RedisSessionStore } from '../../src/backends/redis/session-store.ts';
import { RedisTicketStore } from '../../src/backends/redis/ticket-store.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { closedPortUrl, startRedis, unhandledRejectionTripwire, waitFor, type RedisServer } from '../support/redis-server.ts';
import { record } from './ticket-store.contract.ts';

const tripwire = unhandledRejectionTripwire();
afterEach(() => tripwire.assertNone());

/** A Logger that records `level message` lines. */
function recordingLogger(lines: string[]): Logger {
  const make = (): Logger => ({
    debug: (_f, m) => lines.push(`debug ${m}`),
    info: (_f, m) => lines.push(`info ${m}`),
    warn: (_f, m) => lines.push(`warn ${m}`),
    error: (_f, m) => lines.push(`error ${m}`),
    child: () => make(),
  });
  return make();
}

/** Rejects with code 'unavailable', promptly. */
async function rejectsUnavailable(operation: Promise<unknown>, what: string): Promise<void> {
  const start = Date.now();
  await assert.rejects(operation, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, 'unavailable', `${what}: ${String(err)}`);
    return true;
  });
  const took = Date.now() - start;
  assert.ok(took < 3000, `${what} took ${took} ms`);
}

describe('Redis unreachable at start', () => {
  it('constructors do not throw; every operation rejects promptly with unavailable; nothing is healthy', async () => {
    const url = await closedPortUrl();
    const broker = new RedisBroker({ url });
    const tickets = new RedisTicketStore({ url });
    const sessions = new RedisSessionStore({ url });
    const users = new RedisUserConnections({ url });
    const client = createRedis({ url });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let connect attempts fail and retry
      assert.equal(broker.healthy, false);
      assert.equal(tickets.healthy, false);
      assert.equal(sessions.healthy, false);
      assert.equal(users.healthy, false);
      assert.equal(await pingRedis(client), false);
      await rejectsUnavailable(broker.publish({ channel: 'c', data: 1, from: 'a' }), 'publish');
      await rejectsUnavailable(
        broker.subscribe('c', () => {}),
        'subscribe',
      );
      await rejectsUnavailable(tickets.put('t', record()), 'ticket put');
      await rejectsUnavailable(tickets.take('t'), 'ticket take');
      await rejectsUnavailable(sessions.put('s', { sub: 'a', exp: Date.now() + 1000 }), 'session put');
      await rejectsUnavailable(sessions.get('s'), 'session get');
      await rejectsUnavailable(sessions.extend('s', Date.now() + 1000), 'session extend');
      await rejectsUnavailable(sessions.delete('s'), 'session delete');
      await rejectsUnavailable(users.acquire('u', 'c1', 3), 'acquire');
      await users.release('u', 'c1'); // never rejects
    } finally {
      await Promise.all([broker.close(), tickets.close(), sessions.close(), users.close()]);
      client.disconnect();
    }
  });

  it('comes up by itself when Redis appears later', async () => {
    const late = await startRedis();
    await late.stop();
    const broker = new RedisBroker({ url: late.url });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(broker.healthy, false);
      await late.restart();
      await waitFor(() => broker.healthy, 8000, 'broker healthy after Redis appeared');
      const got: BrokerMessage[] = [];
      await broker.subscribe('c', (m) => got.push(m));
      await broker.publish({ channel: 'c', data: 1, from: 'a' });
      await waitFor(() => got.length === 1);
    } finally {
      await broker.close();
      await late.stop();
    }
  });
});

describe('Redis killed while running, then restarted', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('subscriptions survive; healthy goes false then true; operations fail fast meanwhile and recover', async (t) => {
    const logLines: string[] = [];
    const a = new RedisBroker({ url: redis.url });
    const b = new RedisBroker({ url: redis.url, logger: recordingLogger(logLines) });
    const tickets = new RedisTicketStore({ url: redis.url });
    const users = new RedisUserConnections({ url: redis.url });
    try {
      await waitFor(() => a.healthy && b.healthy && tickets.healthy && users.healthy, 3000, 'all healthy');
      const got: BrokerMessage[] = [];
      await b.subscribe('survivor', (m) => got.push(m));
      await b.subscribe('survivor', () => {}); // a second listener: still one Redis subscription
      await a.publish({ channel: 'survivor', data: 'before', from: 'alice' });
      await waitFor(() => got.length === 1);
      await users.acquire('u', 'c1', 1);

      await redis.kill();
      const killedAt = Date.now();
      await waitFor(() => !a.healthy && !b.healthy && !tickets.healthy, 2000, 'unhealthy after kill');
      t.diagnostic(`healthy=false observed ${Date.now() - killedAt} ms after SIGKILL`);
      await rejectsUnavailable(a.publish({ channel: 'survivor', data: 'lost', from: 'alice' }), 'publish while down');
      await rejectsUnavailable(
        b.subscribe('new', () => {}),
        'subscribe while down',
      );
      await rejectsUnavailable(tickets.take('x'), 'take while down');
      await rejectsUnavailable(users.acquire('u', 'c2', 1), 'acquire while down');

      await redis.restart();
      const restartedAt = Date.now();
      await waitFor(() => a.healthy && b.healthy && tickets.healthy && users.healthy, 10_000, 'healthy after restart');
      t.diagnostic(`healthy=true again ${Date.now() - restartedAt} ms after redis-server answered PING`);
      await a.publish({ channel: 'survivor', data: 'after', from: 'alice' });
      await waitFor(() => got.length === 2, 3000, 'delivery after restart');
      assert.deepEqual(
        got.map((m) => m.data),
        ['before', 'after'],
      );
      // The restarted server is empty (no persistence) and has no scripts: acquire must still work,
      // and c1, still held, was written back: it still counts.
      assert.equal(await users.acquire('u', 'c3', 2), true);
      assert.equal(await users.acquire('u', 'c4', 2), false);
      await tickets.put('t', record());
      assert.equal((await tickets.take('t'))?.sub, 'alice');
      // One warning per connection per outage (not one per retry), then the recovery.
      const warnings = logLines.filter((l) => l.startsWith('warn'));
      assert.ok(warnings.length >= 1 && warnings.length <= 2, logLines.join('\n'));
      assert.ok(logLines.includes('info redis connection restored'), logLines.join('\n'));
      assert.ok(logLines.includes('info broker subscriptions restored'), logLines.join('\n'));
    } finally {
      await Promise.all([a.close(), b.close(), tickets.close(), users.close()]);
    }
  });
});
