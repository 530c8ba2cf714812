import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryTicketStore } from '../../src/backends/memory/ticket-store.ts';
import { RedisTicketStore, sha256Hex } from '../../src/backends/redis/ticket-store.ts';
import { waitFor } from '../support/redis-server.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { record, ticketStoreContract } from './ticket-store.contract.ts';

const fx = contractFixture();

const redisStore = (p: string) => whenHealthy(new RedisTicketStore({ url: fx.redis.url, prefix: p }), 'store healthy');

ticketStoreContract('memory', async () => samePair(new MemoryTicketStore()));
ticketStoreContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => redisStore(p));
});

describe('RedisTicketStore specifics', () => {
  let admin: Redis;
  before(() => {
    admin = new Redis(fx.redis.url);
  });
  after(() => admin.disconnect());

  it('a ticket expires in Redis at its exp (real wait)', async () => {
    const p = fx.prefix();
    const store = await redisStore(p);
    try {
      await store.put('short', record({ exp: Date.now() + 1000 }));
      const pttl = await admin.pttl(`${p}t:${await sha256Hex('short')}`);
      assert.ok(pttl > 800 && pttl <= 1000, `pttl ${pttl}`);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal(await store.take('short'), null);
    } finally {
      await store.close();
    }
  });

  it('an already expired ticket is not stored', async () => {
    const p = fx.prefix();
    const store = await redisStore(p);
    try {
      await store.put('dead', record({ exp: Date.now() - 1 }));
      assert.deepEqual(await admin.keys(`${p}*`), []);
    } finally {
      await store.close();
    }
  });

  it('the key is the SHA-256 of the ticket: Redis never holds the ticket itself', async () => {
    const p = fx.prefix();
    const store = await redisStore(p);
    try {
      const ticket = 'secret-ticket-value-0123456789';
      await store.put(ticket, record());
      const keys = await admin.keys(`${p}*`);
      assert.deepEqual(keys, [`${p}t:${await sha256Hex(ticket)}`]);
      assert.equal(
        keys.some((k) => k.includes(ticket)),
        false,
      );
      const value = await admin.get(keys[0]!);
      assert.equal(value?.includes(ticket), false);
    } finally {
      await store.close();
    }
  });

  it('a malformed stored value takes as null (fail closed) and is consumed', async () => {
    const p = fx.prefix();
    const store = await redisStore(p);
    try {
      const key = `${p}t:${await sha256Hex('odd')}`;
      await admin.set(key, '{"sub":42}');
      assert.equal(await store.take('odd'), null);
      assert.equal(await admin.exists(key), 0);
    } finally {
      await store.close();
    }
  });

  it('works on a shared client and leaves it open', async () => {
    const shared = new Redis(fx.redis.url);
    const store = new RedisTicketStore({ client: shared, prefix: fx.prefix() });
    await waitFor(() => store.healthy);
    await store.put('x', record());
    assert.equal((await store.take('x'))?.sub, 'alice');
    await store.close();
    assert.equal(await shared.ping(), 'PONG');
    shared.disconnect();
  });
});
