import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemorySessionStore } from '../../src/backends/memory/session-store.ts';
import { RedisSessionStore } from '../../src/backends/redis/session-store.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { sessionStoreContract } from './session-store.contract.ts';

const fx = contractFixture();

const redisStore = (p: string) => whenHealthy(new RedisSessionStore({ url: fx.redis.url, prefix: p }), 'store healthy');

sessionStoreContract('memory', async () => samePair(new MemorySessionStore()));
sessionStoreContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => redisStore(p));
});

describe('RedisSessionStore specifics', () => {
  it('stores under <prefix>s:<sid> with a TTL that ends at exp', async () => {
    const p = fx.prefix();
    const store = await redisStore(p);
    const admin = new Redis(fx.redis.url);
    try {
      await store.put('sid-1', { sub: 'alice', exp: Date.now() + 10_000 });
      const pttl = await admin.pttl(`${p}s:sid-1`);
      assert.ok(pttl > 9_000 && pttl <= 10_000, `pttl ${pttl}`);
      // An extension moves the key's TTL to the new end.
      await store.put('sid-2', { sub: 'alice', exp: Date.now() + 10_000, maxExp: Date.now() + 60_000 });
      await store.extend('sid-2', Date.now() + 30_000);
      const extended = await admin.pttl(`${p}s:sid-2`);
      assert.ok(extended > 29_000 && extended <= 30_000, `pttl after extend ${extended}`);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
