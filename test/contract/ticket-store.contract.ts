/**
 * What every TicketStore must do. `a` and `b` are two instances over one backend (Redis) or the same
 * object twice (memory). TTL expiry is not here: the memory store may return expired records (the
 * caller checks `exp`), so that is a Redis-specific test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { TicketRecord, TicketStore } from '../../src/auth-service/ticket-store.ts';

export interface TicketStorePair {
  readonly a: TicketStore;
  readonly b: TicketStore;
  close(): Promise<void>;
}

export function record(overrides: Partial<TicketRecord> = {}): TicketRecord {
  const now = Date.now();
  return {
    sub: 'alice',
    origin: 'https://app.example',
    ip: '127.0.0.1',
    exp: now + 30_000,
    sessionExp: now + 3_600_000,
    sid: 's-1',
    ...overrides,
  };
}

let n = 0;
const ticketId = () => `tk_${Date.now().toString(36)}_${++n}_${Math.random().toString(36).slice(2)}`;

export function ticketStoreContract(name: string, make: () => Promise<TicketStorePair>): void {
  describe(`TicketStore contract: ${name}`, () => {
    let pair: TicketStorePair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('put then take returns the record (claims included); a second take gets null', async () => {
      const t = ticketId();
      const r = record({ claims: { subscribe: ['chat:*', 'user:{sub}'], publish: ['chat:*'], n: 1 } });
      await pair.a.put(t, r);
      assert.deepEqual(await pair.a.take(t), r);
      assert.equal(await pair.a.take(t), null);
    });

    it('nullable fields survive', async () => {
      const t = ticketId();
      const r = record({ origin: null, ip: null, sid: null });
      await pair.a.put(t, r);
      assert.deepEqual(await pair.a.take(t), r);
    });

    it('an unknown ticket takes as null', async () => {
      assert.equal(await pair.a.take(ticketId()), null);
    });

    it('a ticket put on one instance is taken on the other, once', async () => {
      const t = ticketId();
      await pair.a.put(t, record());
      assert.equal((await pair.b.take(t))?.sub, 'alice');
      assert.equal(await pair.a.take(t), null);
    });

    it('20 parallel takes of one ticket across instances: exactly one gets the record', async () => {
      const t = ticketId();
      await pair.a.put(t, record());
      const takes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? pair.a : pair.b).take(t));
      const results = await Promise.all(takes);
      assert.equal(results.filter((r) => r !== null).length, 1);
    });

    it('tickets are independent', async () => {
      const [t1, t2] = [ticketId(), ticketId()];
      await pair.a.put(t1, record({ sub: 'one' }));
      await pair.a.put(t2, record({ sub: 'two' }));
      assert.equal((await pair.b.take(t2))?.sub, 'two');
      assert.equal((await pair.b.take(t1))?.sub, 'one');
    });
  });
}
