import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySessionStore } from '../../src/backends/memory/session-store.ts';
import { MemoryTicketStore } from '../../src/backends/memory/ticket-store.ts';
import type { TicketRecord } from '../../src/auth-service/ticket-store.ts';

function ticket(exp: number): TicketRecord {
  return { sub: 'alice', origin: null, ip: null, exp, sessionExp: exp + 1000, sid: null };
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('MemoryTicketStore', () => {
  it('take is get-and-delete', async () => {
    const store = new MemoryTicketStore();
    const record = ticket(Date.now() + 10_000);
    await store.put('t1', record);
    assert.deepEqual(await store.take('t1'), record);
    assert.equal(await store.take('t1'), null);
    assert.equal(await store.take('never'), null);
  });

  it('concurrent takes of one ticket: exactly one wins', async () => {
    const store = new MemoryTicketStore();
    await store.put('t1', ticket(Date.now() + 10_000));
    const results = await Promise.all([store.take('t1'), store.take('t1'), store.take('t1')]);
    assert.equal(results.filter((r) => r !== null).length, 1);
  });

  it('sweeps expired records on a later put, at most once per second', async () => {
    const c = clock();
    const store = new MemoryTicketStore({ now: c.now });
    await store.put('a', ticket(c.t + 500));
    await store.put('b', ticket(c.t + 5_000));
    c.t += 600; // 'a' expired, but the last sweep was < 1 s ago
    await store.put('c', ticket(c.t + 5_000));
    assert.equal(store.size, 3);
    c.t += 1_000;
    await store.put('d', ticket(c.t + 5_000));
    assert.equal(store.size, 3);
    assert.equal(await store.take('a'), null);
    assert.notEqual(await store.take('b'), null);
  });

  it('put beyond maxEntries throws store_full; sweeping frees room', async () => {
    const c = clock();
    const store = new MemoryTicketStore({ now: c.now, maxEntries: 2 });
    await store.put('a', ticket(c.t + 100));
    await store.put('b', ticket(c.t + 10_000));
    await assert.rejects(store.put('c', ticket(c.t + 10_000)), (err: unknown) => {
      assert.equal((err as { code?: unknown }).code, 'store_full');
      return true;
    });
    assert.equal(store.size, 2);
    await store.put('b', ticket(c.t + 20_000)); // replacing an existing key is not growth
    c.t += 2_000;
    await store.put('c', ticket(c.t + 10_000)); // 'a' swept first
    assert.equal(store.size, 2);
  });

  it('close empties the store', async () => {
    const store = new MemoryTicketStore();
    await store.put('a', ticket(Date.now() + 10_000));
    await store.close();
    assert.equal(await store.take('a'), null);
  });
});

describe('MemorySessionStore', () => {
  it('get returns live records, null for expired ones (and drops them)', async () => {
    const c = clock();
    const store = new MemorySessionStore({ now: c.now });
    await store.put('s1', { sub: 'alice', exp: c.t + 1_000 });
    assert.deepEqual(await store.get('s1'), { sub: 'alice', exp: c.t + 1_000 });
    c.t += 1_000;
    assert.equal(await store.get('s1'), null);
    assert.equal(store.size, 0);
    assert.equal(await store.get('unknown'), null);
  });

  it('delete ends a session', async () => {
    const store = new MemorySessionStore();
    await store.put('s1', { sub: 'alice', exp: Date.now() + 10_000 });
    await store.delete('s1');
    assert.equal(await store.get('s1'), null);
  });

  it('sweeps expired records on a later put', async () => {
    const c = clock();
    const store = new MemorySessionStore({ now: c.now });
    await store.put('a', { sub: 'a', exp: c.t + 100 });
    await store.put('b', { sub: 'b', exp: c.t + 100 });
    c.t += 1_500;
    await store.put('c', { sub: 'c', exp: c.t + 100 });
    assert.equal(store.size, 1);
  });

  it('put beyond maxEntries throws store_full', async () => {
    const store = new MemorySessionStore({ maxEntries: 1 });
    await store.put('a', { sub: 'a', exp: Date.now() + 10_000 });
    await assert.rejects(store.put('b', { sub: 'b', exp: Date.now() + 10_000 }), { code: 'store_full' });
  });
});
