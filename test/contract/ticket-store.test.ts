import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryTicketStore } from '../../src/store/memory-ticket-store.ts';
import { RedisTicketStore, sha256Hex } from '../../src/store/redis-ticket-store.ts';
import { startRedis, unhandledRejectionTripwire, waitFor, type RedisServer } from '../support/redis-server.ts';
import { record, ticketStoreContract } from './ticket-store.contract.ts';

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

async function redisStore(p: string): Promise<RedisTicketStore> {
  const store = new RedisTicketStore({ url: redis.url, prefix: p });
  await waitFor(() => store.healthy, 3000, 'store healthy');
  return store;
}

ticketStoreContract('memory', async () => {
  const store = new MemoryTicketStore();
  return { a: store, b: store, close: () => store.close() };
});

ticketStoreContract('redis (two instances, one server)', async () => {
  const p = prefix();
  const [a, b] = await Promise.all([redisStore(p), redisStore(p)]);
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('RedisTicketStore specifics', () => {
  let admin: Redis;
  before(() => {
    admin = new Redis(redis.url);
  });
  after(() => admin.disconnect());

  it('a ticket expires in Redis at its exp (real wait)', async () => {
    const p = prefix();
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
    const p = prefix();
    const store = await redisStore(p);
    try {
      await store.put('dead', record({ exp: Date.now() - 1 }));
      assert.deepEqual(await admin.keys(`${p}*`), []);
    } finally {
      await store.close();
    }
  });

  it('the key is the SHA-256 of the ticket: Redis never holds the ticket itself', async () => {
    const p = prefix();
    const store = await redisStore(p);
    try {
      const ticket = 'secret-ticket-value-0123456789';
      await store.put(ticket, record());
      const keys = await admin.keys(`${p}*`);
      assert.deepEqual(keys, [`${p}t:${await sha256Hex(ticket)}`]);
      assert.equal(keys.some((k) => k.includes(ticket)), false);
      const value = await admin.get(keys[0]!);
      assert.equal(value?.includes(ticket), false);
    } finally {
      await store.close();
    }
  });

  it('a malformed stored value takes as null (fail closed) and is consumed', async () => {
    const p = prefix();
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
    const shared = new Redis(redis.url);
    const store = new RedisTicketStore({ client: shared, prefix: prefix() });
    await waitFor(() => store.healthy);
    await store.put('x', record());
    assert.equal((await store.take('x'))?.sub, 'alice');
    await store.close();
    assert.equal(await shared.ping(), 'PONG');
    shared.disconnect();
  });
});
