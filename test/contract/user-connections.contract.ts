/**
 * What every UserConnections must do. `a` and `b` are two instances over one backend (Redis) or the
 * same object twice (memory); the cap must hold across both.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { UserConnections } from '../../src/core/user-connections.ts';

export interface UserConnectionsPair {
  readonly a: UserConnections;
  readonly b: UserConnections;
  close(): Promise<void>;
}

let n = 0;
const user = () => `user-${Date.now().toString(36)}-${++n}`;

export function userConnectionsContract(name: string, make: () => Promise<UserConnectionsPair>): void {
  describe(`UserConnections contract: ${name}`, () => {
    let pair: UserConnectionsPair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('acquires up to max, then refuses', async () => {
      const u = user();
      assert.equal(await pair.a.acquire(u, 'c1', 2), true);
      assert.equal(await pair.b.acquire(u, 'c2', 2), true);
      assert.equal(await pair.a.acquire(u, 'c3', 2), false);
    });

    it('5 concurrent acquires across both instances with max 3: exactly 3 succeed', async () => {
      const u = user();
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 === 0 ? pair.a : pair.b).acquire(u, `c${i}`, 3)));
      assert.equal(results.filter(Boolean).length, 3);
    });

    it('release frees a slot, on either instance; release is idempotent', async () => {
      const u = user();
      await pair.a.acquire(u, 'c1', 1);
      assert.equal(await pair.b.acquire(u, 'c2', 1), false);
      await pair.a.release(u, 'c1');
      await pair.a.release(u, 'c1');
      await pair.a.release(u, 'never-acquired');
      assert.equal(await pair.b.acquire(u, 'c2', 1), true);
    });

    it('acquiring the same connection twice counts once', async () => {
      const u = user();
      assert.equal(await pair.a.acquire(u, 'c1', 2), true);
      assert.equal(await pair.a.acquire(u, 'c1', 2), true);
      assert.equal(await pair.b.acquire(u, 'c2', 2), true);
    });

    it('users are counted separately', async () => {
      const [u1, u2] = [user(), user()];
      assert.equal(await pair.a.acquire(u1, 'c1', 1), true);
      assert.equal(await pair.b.acquire(u2, 'c1', 1), true);
    });
  });
}
