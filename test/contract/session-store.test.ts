import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemorySessionStore } from '../../src/store/memory-session-store.ts';
import { RedisSessionStore } from '../../src/store/redis-session-store.ts';
import { startRedis, unhandledRejectionTripwire, waitFor, type RedisServer } from '../support/redis-server.ts';
import { sessionStoreContract } from './session-store.contract.ts';

const tripwire = unhandledRejectionTripwire();
afterEach(() => tripwire.assertNone());

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

let n = 0;
const prefix = () => `t${process.pid}-${++n}:`;

async function redisStore(p: string): Promise<RedisSessionStore> {
  const store = new RedisSessionStore({ url: redis.url, prefix: p });
  await waitFor(() => store.healthy, 3000, 'store healthy');
  return store;
}

sessionStoreContract('memory', async () => {
  const store = new MemorySessionStore();
  return { a: store, b: store, close: () => store.close() };
});

sessionStoreContract('redis (two instances, one server)', async () => {
  const p = prefix();
  const [a, b] = await Promise.all([redisStore(p), redisStore(p)]);
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('RedisSessionStore specifics', () => {
  it('stores under <prefix>s:<sid> with a TTL that ends at exp', async () => {
    const p = prefix();
    const store = await redisStore(p);
    const admin = new Redis(redis.url);
    try {
      await store.put('sid-1', { sub: 'alice', exp: Date.now() + 10_000 });
      const pttl = await admin.pttl(`${p}s:sid-1`);
      assert.ok(pttl > 9_000 && pttl <= 10_000, `pttl ${pttl}`);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
