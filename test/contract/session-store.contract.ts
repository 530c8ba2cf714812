/** What every SessionStore must do; `a` and `b` as in the ticket-store contract. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SessionStore } from '../../src/auth-service/session-store.ts';

export interface SessionStorePair {
  readonly a: SessionStore;
  readonly b: SessionStore;
  close(): Promise<void>;
}

let n = 0;
const sid = () => `sid_${Date.now().toString(36)}_${++n}`;

export function sessionStoreContract(name: string, make: () => Promise<SessionStorePair>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let pair: SessionStorePair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('put, get (from either instance), delete', async () => {
      const s = sid();
      const record = { sub: 'alice', exp: Date.now() + 60_000 };
      await pair.a.put(s, record);
      assert.deepEqual(await pair.a.get(s), record);
      assert.deepEqual(await pair.b.get(s), record);
      await pair.b.delete(s);
      assert.equal(await pair.a.get(s), null);
    });

    it('unknown sessions are null; deleting one is fine', async () => {
      assert.equal(await pair.a.get(sid()), null);
      await pair.a.delete(sid());
    });

    it('put replaces', async () => {
      const s = sid();
      await pair.a.put(s, { sub: 'alice', exp: Date.now() + 60_000 });
      const later = { sub: 'alice', exp: Date.now() + 120_000 };
      await pair.b.put(s, later);
      assert.deepEqual(await pair.a.get(s), later);
    });

    it('extend slides exp forward up to maxExp, never back, and returns the session as it now is', async () => {
      const s = sid();
      const now = Date.now();
      await pair.a.put(s, { sub: 'alice', exp: now + 60_000, maxExp: now + 180_000 });
      assert.deepEqual(await pair.b.extend(s, now + 120_000), { sub: 'alice', exp: now + 120_000, maxExp: now + 180_000 });
      assert.deepEqual(await pair.a.get(s), { sub: 'alice', exp: now + 120_000, maxExp: now + 180_000 });
      // An extension that lost a race (an earlier end) leaves the later one.
      assert.deepEqual(await pair.a.extend(s, now + 90_000), { sub: 'alice', exp: now + 120_000, maxExp: now + 180_000 });
      assert.deepEqual(await pair.b.extend(s, now + 999_000), { sub: 'alice', exp: now + 180_000, maxExp: now + 180_000 });
      assert.deepEqual(await pair.b.get(s), { sub: 'alice', exp: now + 180_000, maxExp: now + 180_000 });
    });

    it('extend: a session without maxExp keeps its end; unknown, expired and deleted sessions are null', async () => {
      const fixed = sid();
      const now = Date.now();
      await pair.a.put(fixed, { sub: 'bob', exp: now + 60_000 });
      assert.deepEqual(await pair.b.extend(fixed, now + 120_000), { sub: 'bob', exp: now + 60_000 });
      assert.equal(await pair.a.extend(sid(), now + 60_000), null);
      const past = sid();
      await pair.a.put(past, { sub: 'bob', exp: now + 100, maxExp: now + 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await pair.b.extend(past, Date.now() + 60_000), null, 'an expired session cannot be revived');
      await pair.a.delete(fixed);
      assert.equal(await pair.b.extend(fixed, now + 120_000), null);
    });

    it('concurrent extensions keep the latest end', async () => {
      const s = sid();
      const now = Date.now();
      await pair.a.put(s, { sub: 'carol', exp: now + 10_000, maxExp: now + 600_000 });
      const ends = Array.from({ length: 20 }, (_, i) => now + 20_000 + i * 1_000);
      await Promise.all(ends.map((end, i) => (i % 2 === 0 ? pair.a : pair.b).extend(s, end)));
      assert.equal((await pair.a.get(s))?.exp, now + 39_000);
    });

    it('an expired session is never returned', async () => {
      const s = sid();
      await pair.a.put(s, { sub: 'alice', exp: Date.now() + 150 });
      await pair.a.put(`${s}-past`, { sub: 'alice', exp: Date.now() - 1 });
      assert.equal(await pair.a.get(`${s}-past`), null);
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal(await pair.b.get(s), null);
    });
  });
}
