/** What every SessionStore must do; `a` and `b` as in the ticket-store contract. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SessionStore } from '../../src/store/session-store.ts';

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
