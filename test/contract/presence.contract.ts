/**
 * What every Presence must do. The factory gives two presences `a` and `b`: two instances sharing
 * one backend (Redis), or the same object twice (memory).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Presence, PresenceEntry } from '../../src/channels/presence.ts';
import { MAX_PRESENCE_LIST } from '../../src/channels/presence.ts';
import { fresh, rejectsWith } from './stream.contract.ts';

export interface PresencePair {
  readonly a: Presence;
  readonly b: Presence;
  close(): Promise<void>;
}

const byId = (entries: readonly PresenceEntry[]) => [...entries].sort((x, y) => x.connectionId.localeCompare(y.connectionId));

export function presenceContract(name: string, make: () => Promise<PresencePair>): void {
  describe(`Presence contract: ${name}`, () => {
    let pair: PresencePair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('join on one instance is listed and counted on both, public info included', async () => {
      const channel = fresh();
      await pair.a.join(channel, { sub: 'alice', connectionId: 'c1', info: { name: 'Alice', avatar: 'a.png' } });
      await pair.b.join(channel, { sub: 'bob', connectionId: 'c2' });
      for (const presence of [pair.a, pair.b]) {
        const page = await presence.list(channel, 100);
        assert.equal(page.total, 2);
        assert.deepEqual(byId(page.entries), [
          { sub: 'alice', connectionId: 'c1', info: { name: 'Alice', avatar: 'a.png' } },
          { sub: 'bob', connectionId: 'c2' },
        ]);
        assert.deepEqual(await presence.stats(channel), { connections: 2, users: 2 });
      }
    });

    it('users count distinct subs; joining twice is one entry; leave removes on every instance', async () => {
      const channel = fresh();
      await pair.a.join(channel, { sub: 'alice', connectionId: 'c1' });
      await pair.b.join(channel, { sub: 'alice', connectionId: 'c2' });
      await pair.a.join(channel, { sub: 'alice', connectionId: 'c1' });
      assert.deepEqual(await pair.b.stats(channel), { connections: 2, users: 1 });
      await pair.a.leave(channel, 'c1');
      assert.deepEqual(await pair.b.stats(channel), { connections: 1, users: 1 });
      await pair.b.leave(channel, 'c2');
      assert.deepEqual(await pair.a.stats(channel), { connections: 0, users: 0 });
      assert.deepEqual(await pair.a.list(channel, 10), { entries: [], total: 0 });
      await pair.a.leave(channel, 'never-joined'); // resolves
      await pair.a.leave(fresh(), 'c1');
    });

    it('channels are isolated', async () => {
      const one = fresh();
      const two = `${one}:sub`;
      await pair.a.join(one, { sub: 'alice', connectionId: 'c1' });
      await pair.a.join(two, { sub: 'bob', connectionId: 'c2' });
      assert.deepEqual((await pair.b.list(one, 10)).entries, [{ sub: 'alice', connectionId: 'c1' }]);
      assert.deepEqual(await pair.b.stats(two), { connections: 1, users: 1 });
    });

    it('list is bounded by its limit and reports the total', async () => {
      const channel = fresh();
      for (let i = 0; i < 7; i++) await (i % 2 ? pair.a : pair.b).join(channel, { sub: `u${i % 3}`, connectionId: `c${i}` });
      const page = await pair.b.list(channel, 3);
      assert.equal(page.entries.length, 3);
      assert.equal(page.total, 7);
      assert.deepEqual(await pair.a.stats(channel), { connections: 7, users: 3 });
      for (const limit of [0, -1, 1.5, MAX_PRESENCE_LIST + 1, Number.NaN])
        await rejectsWith(pair.a.list(channel, limit), 'invalid_limit', `limit ${limit}`);
      assert.equal((await pair.a.list(channel, MAX_PRESENCE_LIST)).entries.length, 7);
    });

    it('bad input gets a defined StorageError and stores nothing', async () => {
      const channel = fresh();
      const bad: unknown[] = [
        { sub: '', connectionId: 'c1' },
        { sub: 'alice', connectionId: '' },
        { sub: 'x'.repeat(257), connectionId: 'c1' },
        { sub: 42, connectionId: 'c1' },
        { sub: 'alice', connectionId: 'c1', info: ['not', 'an', 'object'] },
        { sub: 'alice', connectionId: 'c1', info: 'text' },
        { sub: 'alice', connectionId: 'c1', info: { big: 'x'.repeat(2048) } },
        { sub: 'alice', connectionId: 'c1', info: { n: 10n } },
        null,
      ];
      for (const entry of bad)
        await rejectsWith(
          pair.a.join(channel, entry as PresenceEntry),
          'invalid_entry',
          JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? 'bigint' : v))?.slice(0, 60),
        );
      for (const name of ['', 'a b', '$hws.control', 'x'.repeat(129)]) {
        await rejectsWith(pair.a.join(name, { sub: 'alice', connectionId: 'c1' }), 'invalid_channel', `join ${name}`);
        await rejectsWith(pair.a.list(name, 10), 'invalid_channel', `list ${name}`);
        await rejectsWith(pair.a.stats(name), 'invalid_channel', `stats ${name}`);
      }
      assert.deepEqual(await pair.b.stats(channel), { connections: 0, users: 0 });
    });

    it('after close it is unhealthy and rejects with unavailable; leave still resolves', async () => {
      assert.equal(pair.a.healthy, true);
      await pair.a.close();
      assert.equal(pair.a.healthy, false);
      await rejectsWith(pair.a.join('chat:x', { sub: 'alice', connectionId: 'c1' }), 'unavailable');
      await rejectsWith(pair.a.list('chat:x', 10), 'unavailable');
      await rejectsWith(pair.a.stats('chat:x'), 'unavailable');
      await pair.a.leave('chat:x', 'c1');
      await pair.a.close(); // idempotent
    });
  });
}
