import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryUserConnections } from '../../src/backends/memory/user-connections.ts';
import { RedisUserConnections } from '../../src/backends/redis/user-connections.ts';
import { startRedis, waitFor, type RedisServer } from '../support/redis-server.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { userConnectionsContract } from './user-connections.contract.ts';

const fx = contractFixture();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counter(p: string, leaseMs?: number, client?: Redis): Promise<RedisUserConnections> {
  const lease = leaseMs ? { leaseMs } : {};
  const c = client
    ? new RedisUserConnections({ client, prefix: p, ...lease })
    : new RedisUserConnections({ url: fx.redis.url, prefix: p, ...lease });
  return whenHealthy(c, 'counter healthy');
}

userConnectionsContract('memory', async () => samePair(new MemoryUserConnections()));
userConnectionsContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => counter(p));
});

describe('RedisUserConnections specifics', () => {
  it('renewal keeps live leases past leaseMs', async () => {
    const p = fx.prefix();
    const [a, b] = await Promise.all([counter(p, 300), counter(p, 300)]);
    try {
      assert.equal(await a.acquire('u', 'c1', 1), true);
      await sleep(1000); // three lease lengths
      assert.equal(await b.acquire('u', 'c2', 1), false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a crashed instance's leases lapse after leaseMs", async () => {
    const p = fx.prefix();
    const crashingLink = new Redis(fx.redis.url, { enableOfflineQueue: false, retryStrategy: () => null });
    crashingLink.on('error', () => {});
    const a = await counter(p, 300, crashingLink);
    const b = await counter(p, 300);
    try {
      for (const id of ['c1', 'c2', 'c3']) assert.equal(await a.acquire('u', id, 3), true);
      assert.equal(await b.acquire('u', 'c4', 3), false);
      crashingLink.disconnect(); // instance A "dies": no more renewals, no releases
      await sleep(450);
      assert.equal(await b.acquire('u', 'c4', 3), true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("close() frees this instance's slots at once", async () => {
    const p = fx.prefix();
    const [a, b] = await Promise.all([counter(p), counter(p)]);
    try {
      assert.equal(await a.acquire('u', 'c1', 1), true);
      await a.close();
      assert.equal(await b.acquire('u', 'c2', 1), true);
    } finally {
      await b.close();
    }
  });

  it('the user key carries a TTL of leaseMs and goes with its last member', async () => {
    const p = fx.prefix();
    const a = await counter(p, 300);
    const admin = new Redis(fx.redis.url);
    try {
      await a.acquire('u', 'c1', 1);
      const pttl = await admin.pttl(`${p}u:u`);
      assert.ok(pttl > 0 && pttl <= 300, `pttl ${pttl}`);
      await a.release('u', 'c1');
      assert.equal(await admin.exists(`${p}u:u`), 0);
    } finally {
      admin.disconnect();
      await a.close();
    }
  });

  it('acquire still works after Redis lost its script cache (EVALSHA → EVAL fallback)', async () => {
    const p = fx.prefix();
    const a = await counter(p);
    const admin = new Redis(fx.redis.url);
    try {
      assert.equal(await a.acquire('u', 'c1', 2), true);
      await admin.script('FLUSH');
      assert.equal(await a.acquire('u', 'c2', 2), true);
      assert.equal(await a.acquire('u', 'c3', 2), false);
    } finally {
      admin.disconnect();
      await a.close();
    }
  });
});

describe('RedisUserConnections when Redis restarts empty (its own redis-server, no persistence)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('each instance writes its live leases back before it reports healthy: open sockets keep counting toward the cap', async () => {
    const make = () => whenHealthy(new RedisUserConnections({ url: redis.url, prefix: 'restart:' }), 'counter healthy');
    const [a, b] = await Promise.all([make(), make()]);
    const admin = new Redis(redis.url, { retryStrategy: () => 200 });
    admin.on('error', () => {});
    try {
      assert.equal(await a.acquire('u', 'c1', 3), true);
      assert.equal(await a.acquire('u', 'c2', 3), true);
      assert.equal(await b.acquire('u', 'c3', 3), true);
      await redis.restart(); // SIGTERM and start again: with no persistence every key is gone
      await waitFor(() => a.healthy && b.healthy, 10_000, 'both counters healthy again');
      await waitFor(() => admin.status === 'ready', 10_000, 'the admin link');
      assert.deepEqual((await admin.zrange('restart:u:u', '0', '-1')).sort(), ['c1', 'c2', 'c3'], 'every live lease is back in Redis');
      assert.equal(await b.acquire('u', 'c4', 3), false, 'three sockets are still open: the cap is reached');
      assert.equal(await a.acquire('u', 'c4', 3), false);
      await a.release('u', 'c1');
      assert.equal(await b.acquire('u', 'c4', 3), true, 'a release frees a slot as before');
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
