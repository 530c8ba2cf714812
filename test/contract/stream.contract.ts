/**
 * What every Stream must do. The factory gives two streams `a` and `b`: two instances sharing one
 * backend (Redis), or the same object twice (memory, where "every instance" is this process).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { HistoryPolicy, Publication, Stream, StreamListener } from '../../src/channels/stream.ts';
import { MAX_READ_LIMIT } from '../../src/channels/stream.ts';
import { StorageError, type StorageErrorCode } from '../../src/channels/storage-error.ts';
import { waitFor } from '../support/redis-server.ts';

export interface StreamPair {
  readonly a: Stream;
  readonly b: Stream;
  close(): Promise<void>;
}

export const policy = (size = 100, ttlMs = 60_000, metaTtlMs = 120_000): HistoryPolicy => ({ size, ttlMs, metaTtlMs });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what one listener receives. */
export async function listen(stream: Stream, channel: string) {
  const got: Publication[] = [];
  let resumed = 0;
  const listener: StreamListener = { publication: (p) => got.push(p), resumed: () => resumed++ };
  const stop = await stream.subscribe(channel, listener);
  return { got, stop, resumed: () => resumed };
}

export async function rejectsWith(operation: Promise<unknown>, code: StorageErrorCode, what: string = code): Promise<void> {
  await assert.rejects(operation, (error: unknown) => {
    assert.ok(error instanceof StorageError, `${what}: not a StorageError: ${String(error)}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
    return true;
  });
}

let unique = 0;
/** A channel name no other test of this process used (the Redis server is shared by a file's tests). */
export const fresh = (namespace = 'chat') => `${namespace}:c${process.pid}-${++unique}`;

export function streamContract(name: string, make: () => Promise<StreamPair>): void {
  describe(`Stream contract: ${name}`, () => {
    let pair: StreamPair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('offsets start at 1 and grow by 1 per channel; the epoch is the same across publishes and reads', async () => {
      const one = fresh();
      const two = fresh();
      const positions = [];
      for (let i = 0; i < 5; i++) positions.push(await pair.a.publish(one, { data: i, from: 'alice' }, policy()));
      assert.deepEqual(
        positions.map((p) => p?.offset),
        [1, 2, 3, 4, 5],
      );
      const epoch = positions[0]!.epoch;
      assert.ok(positions.every((p) => p?.epoch === epoch));
      assert.equal((await pair.b.publish(two, { data: 'x', from: 'bob' }, policy()))?.offset, 1, 'another channel counts on its own');
      assert.deepEqual(await pair.b.position(one, policy()), { offset: 5, epoch });
      assert.deepEqual((await pair.a.read(one, { after: 0, limit: 10 }, policy())).position, { offset: 5, epoch });
      assert.equal((await pair.b.publish(one, { data: 5, from: 'bob' }, policy()))?.epoch, epoch);
    });

    it('concurrent publishes from both instances get distinct, consecutive offsets', async () => {
      const channel = fresh();
      const sent = [];
      for (let i = 0; i < 100; i++) {
        sent.push(pair.a.publish(channel, { data: `a${i}`, from: 'alice' }, policy(500)));
        sent.push(pair.b.publish(channel, { data: `b${i}`, from: 'bob' }, policy(500)));
      }
      const offsets = (await Promise.all(sent)).map((p) => p!.offset).sort((x, y) => x - y);
      assert.deepEqual(
        offsets,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      // What each publish was told is what history holds at that offset.
      const page = await pair.a.read(channel, { after: 0, limit: 200 }, policy(500));
      assert.equal(page.publications.length, 200);
      const stored = new Map(page.publications.map((p) => [p.position!.offset, p.data]));
      const told = await Promise.all(sent);
      for (let i = 0; i < 100; i++) {
        assert.equal(stored.get(told[2 * i]!.offset), `a${i}`);
        assert.equal(stored.get(told[2 * i + 1]!.offset), `b${i}`);
      }
    });

    it('a read after a position returns exactly the later publications, in order, data and from intact', async () => {
      const channel = fresh();
      const data = (i: number) => ({ text: `héllo ✓ ${i}`, n: i + 0.5, list: [1, null, 'x'], nested: { ok: i % 2 === 0 } });
      for (let i = 1; i <= 20; i++) await pair.a.publish(channel, { data: data(i), from: i % 2 ? 'alice' : 'bob' }, policy());
      const result = await pair.b.read(channel, { after: 12, limit: 100 }, policy());
      assert.equal(result.epochMatches, true);
      assert.equal(result.reachesBack, true);
      assert.deepEqual(
        result.publications.map((p) => p.position!.offset),
        [13, 14, 15, 16, 17, 18, 19, 20],
      );
      assert.deepEqual(result.publications[0], {
        channel,
        data: data(13),
        from: 'alice',
        position: { offset: 13, epoch: result.position.epoch },
      });
      assert.equal(result.publications[1]?.from, 'bob');
      const none = await pair.b.read(channel, { after: 20, limit: 100, epoch: result.position.epoch }, policy());
      assert.deepEqual([none.publications.length, none.reachesBack, none.epochMatches], [0, true, true], 'at the head: nothing missed');
    });

    it('limit is respected; paging on from the last offset yields everything; limit 0 reads only the position', async () => {
      const channel = fresh();
      for (let i = 1; i <= 25; i++) await pair.a.publish(channel, { data: i, from: 'alice' }, policy());
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await pair.a.read(channel, { after, limit: 10 }, policy());
        assert.ok(page.publications.length <= 10);
        assert.equal(page.reachesBack, true);
        if (page.publications.length === 0) break;
        seen.push(...page.publications.map((p) => p.data as number));
        after = page.publications.at(-1)!.position!.offset;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      const head = await pair.b.read(channel, { after: 0, limit: 0 }, policy());
      assert.deepEqual([head.publications.length, head.position.offset], [0, 25]);
      await rejectsWith(pair.a.read(channel, { after: 0, limit: MAX_READ_LIMIT + 1 }, policy()), 'invalid_limit');
      assert.equal((await pair.a.read(channel, { after: 0, limit: MAX_READ_LIMIT }, policy())).publications.length, 25);
    });

    it('history size: only the newest `size` are kept, and an older position is reported as not reached', async () => {
      const channel = fresh();
      for (let i = 1; i <= 12; i++) await pair.a.publish(channel, { data: i, from: 'alice' }, policy(5));
      const all = await pair.b.read(channel, { after: 0, limit: 100 }, policy(5));
      assert.equal(all.reachesBack, false);
      assert.deepEqual(
        all.publications.map((p) => p.data),
        [8, 9, 10, 11, 12],
        'what is kept is still returned',
      );
      assert.equal((await pair.b.read(channel, { after: 6, limit: 100 }, policy(5))).reachesBack, false, 'offset 7 is gone');
      const from7 = await pair.b.read(channel, { after: 7, limit: 100 }, policy(5));
      assert.equal(from7.reachesBack, true);
      assert.deepEqual(
        from7.publications.map((p) => p.data),
        [8, 9, 10, 11, 12],
      );
    });

    it('history TTL: publications go after a quiet spell; the position stays, so a reader at the head still recovers', async () => {
      const channel = fresh();
      const short = policy(10, 300, 60_000);
      for (let i = 1; i <= 3; i++) await pair.a.publish(channel, { data: i, from: 'alice' }, short);
      const before = await pair.a.position(channel, short);
      await sleep(450);
      const old = await pair.b.read(channel, { after: 1, limit: 10 }, short);
      assert.deepEqual([old.publications.length, old.reachesBack, old.epochMatches], [0, false, true], 'offsets 2..3 expired');
      assert.deepEqual(old.position, before, 'the position outlives the publications');
      const head = await pair.b.read(channel, { after: 3, limit: 10, epoch: before.epoch }, short);
      assert.deepEqual([head.reachesBack, head.epochMatches], [true, true], 'nothing was missed by a reader at the head');
      assert.deepEqual(await pair.a.publish(channel, { data: 4, from: 'alice' }, short), { offset: 4, epoch: before.epoch });
    });

    it('an expired stream (its position too) comes back with a new epoch and offsets from 1', async () => {
      const channel = fresh();
      const brief = policy(10, 200, 300);
      const first = await pair.a.publish(channel, { data: 1, from: 'alice' }, brief);
      await sleep(500);
      const after = await pair.b.read(channel, { after: 1, limit: 10, epoch: first!.epoch }, brief);
      assert.deepEqual([after.epochMatches, after.reachesBack, after.publications.length], [false, false, 0]);
      assert.notEqual(after.position.epoch, first!.epoch);
      assert.equal(after.position.offset, 0);
      assert.deepEqual(await pair.a.publish(channel, { data: 2, from: 'alice' }, brief), { offset: 1, epoch: after.position.epoch });
    });

    it('a position on a channel with no publication yet is kept by later publications (no false epoch change)', async () => {
      const channel = fresh();
      const start = await pair.b.position(channel, policy());
      assert.equal(start.offset, 0);
      assert.deepEqual(await pair.b.position(channel, policy()), start, 'stable across reads');
      assert.deepEqual(await pair.a.publish(channel, { data: 1, from: 'alice' }, policy()), { offset: 1, epoch: start.epoch });
      const recovered = await pair.a.read(channel, { after: 0, limit: 10, epoch: start.epoch }, policy());
      assert.deepEqual([recovered.epochMatches, recovered.reachesBack, recovered.publications.length], [true, true, 1]);
    });

    it('a foreign epoch or a position ahead of the stream is reported, not served', async () => {
      const channel = fresh();
      for (let i = 1; i <= 3; i++) await pair.a.publish(channel, { data: i, from: 'alice' }, policy());
      const foreign = await pair.b.read(channel, { after: 1, limit: 10, epoch: 'not-this-one' }, policy());
      assert.deepEqual([foreign.epochMatches, foreign.reachesBack, foreign.publications.length], [false, false, 0]);
      for (const after of [4, Number.MAX_SAFE_INTEGER]) {
        const ahead = await pair.b.read(channel, { after, limit: 10 }, policy());
        assert.deepEqual(
          [ahead.epochMatches, ahead.reachesBack, ahead.publications.length, ahead.position.offset],
          [true, false, 0, 3],
          `after ${after}`,
        );
      }
    });

    it('bad input gets a defined StorageError, and the stream keeps working', async () => {
      const channel = fresh();
      await pair.a.publish(channel, { data: 1, from: 'alice' }, policy());
      const read = (request: Record<string, unknown>) => pair.a.read(channel, request as never, policy());
      for (const after of [-1, 1.5, Number.NaN, Infinity, 2 ** 60, '3', null])
        await rejectsWith(read({ after, limit: 10 }), 'invalid_position', `after ${String(after)}`);
      for (const limit of [-1, 2.5, 1e9, Number.NaN, '10'])
        await rejectsWith(read({ after: 0, limit }), 'invalid_limit', `limit ${String(limit)}`);
      for (const epoch of ['', 'x'.repeat(65), 'a b', 'é', 42, null])
        await rejectsWith(read({ after: 0, limit: 1, epoch }), 'invalid_epoch', `epoch ${JSON.stringify(epoch)}`);
      for (const bad of ['', 'a b', 'x'.repeat(129), '$hws.control', 'chat:{x}']) {
        await rejectsWith(pair.a.publish(bad, { data: 1, from: 'alice' }, policy()), 'invalid_channel', `publish ${bad}`);
        await rejectsWith(pair.a.read(bad, { after: 0, limit: 1 }, policy()), 'invalid_channel', `read ${bad}`);
        await rejectsWith(pair.a.subscribe(bad, { publication() {}, resumed() {} }), 'invalid_channel', `subscribe ${bad}`);
      }
      await rejectsWith(pair.a.publish(channel, { data: 10n, from: 'alice' }, policy()), 'invalid_data');
      for (const bad of [policy(0), policy(10_001), policy(10, 0), policy(10, 1000, 999), policy(1.5)]) {
        await rejectsWith(pair.a.publish(channel, { data: 1, from: 'alice' }, bad), 'invalid_policy', JSON.stringify(bad));
      }
      assert.deepEqual(
        (await pair.a.publish(channel, { data: 2, from: 'alice' }, policy()))?.offset,
        2,
        'nothing above consumed an offset',
      );
    });

    it('live: a publish on one instance is notified on both, with the position it was given', async () => {
      const channel = fresh();
      const onA = await listen(pair.a, channel);
      const onB = await listen(pair.b, channel);
      const position = await pair.a.publish(channel, { data: { n: 1 }, from: 'alice' }, policy());
      await waitFor(() => onA.got.length === 1 && onB.got.length === 1);
      assert.deepEqual(onB.got[0], { channel, data: { n: 1 }, from: 'alice', position });
      assert.deepEqual(onA.got[0], onB.got[0]);
    });

    it('live-only channels (no history): delivered without a position, publish resolves null', async () => {
      const channel = fresh('lobby');
      const onB = await listen(pair.b, channel);
      assert.equal(await pair.a.publish(channel, { data: 'hi', from: 'alice' }, null), null);
      await waitFor(() => onB.got.length === 1);
      assert.deepEqual(onB.got[0], { channel, data: 'hi', from: 'alice' });
    });

    it('live: offsets arrive in order from several publishers; channels are isolated, names that prefix each other too', async () => {
      const channel = fresh();
      const other = `${channel}:x`;
      const onB = await listen(pair.b, channel);
      const onOther = await listen(pair.b, other);
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? pair.a : pair.b).publish(channel, { data: i, from: 'alice' }, policy())),
      );
      await pair.a.publish(other, { data: 'other', from: 'alice' }, policy());
      await waitFor(() => onB.got.length === 60 && onOther.got.length === 1);
      assert.deepEqual(
        onB.got.map((p) => p.position!.offset),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      assert.equal(onOther.got[0]?.data, 'other');
    });

    it('delivery is asynchronous, after subscribe resolves; nothing after unsubscribe; a throwing listener does not stop the others', async () => {
      const channel = fresh();
      let called = false;
      const stopEarly = await pair.b.subscribe(channel, { publication: () => (called = true), resumed() {} });
      await pair.b.subscribe(channel, {
        publication() {
          throw new Error('listener bug');
        },
        resumed() {},
      });
      const gone = await listen(pair.b, channel);
      const probe = await listen(pair.b, channel);
      gone.stop();
      gone.stop(); // idempotent: must not remove another listener's share
      const published = pair.a.publish(channel, { data: 1, from: 'alice' }, policy());
      assert.equal(called, false, 'never inside publish()');
      await published;
      await waitFor(() => probe.got.length === 1 && called);
      assert.equal(gone.got.length, 0);
      stopEarly();
      await pair.a.publish(channel, { data: 2, from: 'alice' }, policy());
      await waitFor(() => probe.got.length === 2);
    });

    it('idempotency: a key seen within its window is stored and notified once, on any instance; the retry gets the first position', async () => {
      const channel = fresh();
      const heard = await listen(pair.b, channel);
      const first = await pair.a.publish(channel, { data: 'once', from: 'alice' }, policy(), { idempotencyKey: 'k-1' });
      const retries = await Promise.all([
        pair.b.publish(channel, { data: 'once again', from: 'alice' }, policy(), { idempotencyKey: 'k-1' }),
        pair.a.publish(channel, { data: 'once more', from: 'alice' }, policy(), { idempotencyKey: 'k-1' }),
      ]);
      assert.deepEqual(retries, [first, first]);
      const other = await pair.a.publish(channel, { data: 'another', from: 'alice' }, policy(), { idempotencyKey: 'k-2' });
      assert.equal(other?.offset, first!.offset + 1, 'another key is another publication');
      const stored = await pair.a.read(channel, { after: 0, limit: 10 }, policy());
      assert.deepEqual(
        stored.publications.map((p) => p.data),
        ['once', 'another'],
      );
      await waitFor(() => heard.got.length === 2);
      await sleep(30);
      assert.deepEqual(
        heard.got.map((p) => p.data),
        ['once', 'another'],
        'notified once each',
      );
      // The same key on another channel is its own.
      assert.equal((await pair.b.publish(fresh(), { data: 1, from: 'a' }, policy(), { idempotencyKey: 'k-1' }))?.offset, 1);
      // Live-only channels dedupe too (null both times, one delivery).
      const live = fresh('live');
      const liveHeard = await listen(pair.a, live);
      assert.equal(await pair.a.publish(live, { data: 1, from: 'a' }, null, { idempotencyKey: 'k' }), null);
      assert.equal(await pair.b.publish(live, { data: 2, from: 'a' }, null, { idempotencyKey: 'k' }), null);
      await waitFor(() => liveHeard.got.length === 1);
      await sleep(30);
      assert.deepEqual(
        liveHeard.got.map((p) => p.data),
        [1],
      );
    });

    it('idempotency: a key is forgotten after its window; malformed keys and windows are refused, storing nothing', async () => {
      const channel = fresh();
      const first = await pair.a.publish(channel, { data: 1, from: 'a' }, policy(), { idempotencyKey: 'short', idempotencyTtlMs: 40 });
      await sleep(80);
      const later = await pair.b.publish(channel, { data: 2, from: 'a' }, policy(), { idempotencyKey: 'short', idempotencyTtlMs: 40 });
      assert.equal(later?.offset, first!.offset + 1);
      for (const key of ['', 'with space', 'x'.repeat(129), 'ümlaut', 42 as unknown as string])
        await rejectsWith(
          pair.a.publish(channel, { data: 3, from: 'a' }, policy(), { idempotencyKey: key }),
          'invalid_idempotency_key',
          String(key),
        );
      for (const ttl of [0, -1, 1.5, 25 * 3_600_000])
        await rejectsWith(
          pair.a.publish(channel, { data: 3, from: 'a' }, policy(), { idempotencyKey: 'k', idempotencyTtlMs: ttl }),
          'invalid_policy',
          String(ttl),
        );
      assert.equal((await pair.a.position(channel, policy())).offset, 2, 'nothing stored by the refused publishes');
    });

    it('abandonEpoch: a new epoch at offset 0 with nothing served, once (a second call with the old epoch changes nothing)', async () => {
      const channel = fresh();
      for (let i = 1; i <= 3; i++) await pair.a.publish(channel, { data: i, from: 'a' }, policy());
      const old = await pair.a.position(channel, policy());
      const renewed = await pair.b.abandonEpoch(channel, old.epoch, policy());
      assert.equal(renewed.offset, 0);
      assert.notEqual(renewed.epoch, old.epoch);
      assert.deepEqual(await pair.a.abandonEpoch(channel, old.epoch, policy()), renewed, 'already done: the current position');
      const read = await pair.a.read(channel, { after: 0, limit: 10 }, policy());
      assert.deepEqual([read.publications.length, read.position], [0, renewed]);
      assert.deepEqual(await pair.a.publish(channel, { data: 4, from: 'a' }, policy()), { offset: 1, epoch: renewed.epoch });
      await rejectsWith(pair.a.abandonEpoch(channel, 'not an epoch!', policy()), 'invalid_epoch');
    });

    it('healthy while open; after close it is not, and every operation rejects with unavailable', async () => {
      assert.equal(pair.a.healthy, true);
      await pair.a.close();
      assert.equal(pair.a.healthy, false);
      await rejectsWith(pair.a.publish('chat:x', { data: 1, from: 'alice' }, policy()), 'unavailable');
      await rejectsWith(pair.a.publish('chat:x', { data: 1, from: 'alice' }, null), 'unavailable');
      await rejectsWith(pair.a.read('chat:x', { after: 0, limit: 1 }, policy()), 'unavailable');
      await rejectsWith(pair.a.subscribe('chat:x', { publication() {}, resumed() {} }), 'unavailable');
      await pair.a.close(); // idempotent
    });
  });
}
