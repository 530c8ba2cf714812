/**
 * The channel handlers (DELIVERY-PROTOCOL.md) on the memory backends: positions on publish and
 * delivery, recovery with `since` and its seam, the feed's gap repair (a lost notification, a
 * resumed link), resync on a new epoch or a stream that went back, history, presence, join/leave,
 * and every bad input answered by an error reply.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MemoryBroker } from '../../src/backends/memory/broker.ts';
import { MemoryPresence } from '../../src/backends/memory/presence.ts';
import { MAX_PENDING } from '../../src/channels/channel-feed.ts';
import { channelHandlers, type ChannelOptions } from '../../src/channels/channel-handlers.ts';
import { createChannelService } from '../../src/channels/channel-service.ts';
import type { Handlers } from '../../src/core/handler.ts';
import type { PresenceListener } from '../../src/channels/presence.ts';
import { StorageError } from '../../src/channels/storage-error.ts';
import { fakeConnection, gate, msg, namespaces, settle, TestStream, testFanout, type FakeConnection } from './channel-support.ts';

interface World {
  stream: TestStream;
  presence: MemoryPresence;
  h: Handlers;
}

function world(options: Partial<ChannelOptions> = {}): World {
  const stream = new TestStream();
  const presence = new MemoryPresence();
  const h = channelHandlers({ stream, presence, namespaces, retryMs: [5, 20], maxChannelsPerConnection: 4, ...testFanout(), ...options });
  return { stream, presence, h };
}

const offsets = (c: FakeConnection, channel?: string) =>
  c
    .of()
    .filter((m) => channel === undefined || m.channel === channel)
    .map((m) => m.offset);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('channel handlers: publish and deliver with positions', () => {
  let w: World;
  beforeEach(() => (w = world()));
  afterEach(() => w.stream.close());

  it('history channel: subscribe answers the position; publish is answered with its offset and epoch once stored; deliveries carry both', async () => {
    const alice = fakeConnection('alice');
    const bob = fakeConnection('bob');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:lobby' }), alice.ctx);
    const [ok] = alice.sent;
    assert.deepEqual(Object.keys(ok!).sort(), ['epoch', 'id', 'offset', 'type']);
    assert.equal(ok!.offset, 0);
    await w.h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:lobby', data: { text: 'hi' } }), bob.ctx);
    assert.deepEqual(bob.sent, [{ type: 'ok', id: 2, offset: 1, epoch: ok!.epoch }]);
    assert.equal((await w.stream.read('chat:lobby', { after: 0, limit: 10 }, namespaces.historyFor('chat:lobby')!)).publications.length, 1);
    await settle();
    assert.deepEqual(alice.of(), [
      { type: 'message', channel: 'chat:lobby', data: { text: 'hi' }, from: 'bob', offset: 1, epoch: ok!.epoch },
    ]);
    await w.h.unsubscribe!(msg({ type: 'unsubscribe', id: 3, channel: 'chat:lobby' }), alice.ctx);
    await w.h.publish!(msg({ type: 'publish', id: 4, channel: 'chat:lobby', data: 'again' }), bob.ctx);
    await settle();
    assert.deepEqual(alice.sent.at(-1), { type: 'ok', id: 3 });
    assert.equal(alice.of().length, 1, 'nothing after unsubscribe');
  });

  it('live-only channel: ok without a position, deliveries without offset or epoch', async () => {
    const alice = fakeConnection('alice');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'live:x' }), alice.ctx);
    await w.h.publish!(msg({ type: 'publish', id: 2, channel: 'live:x', data: 7 }), alice.ctx);
    await settle();
    assert.deepEqual(alice.sent[0], { type: 'ok', id: 1 });
    assert.deepEqual(alice.of(), [{ type: 'message', channel: 'live:x', data: 7, from: 'alice' }]);
    assert.deepEqual(alice.of('ok')[1], { type: 'ok', id: 2 });
  });

  it('one feed (one stream subscription) per channel on an instance, gone with its last subscriber', async () => {
    const cs = ['a', 'b', 'c'].map((s) => fakeConnection(s));
    for (const c of cs) await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:one' }), c.ctx);
    assert.equal(w.stream.listenerCount, 1);
    cs[0]!.close();
    await w.h.unsubscribe!(msg({ type: 'unsubscribe', id: 2, channel: 'chat:one' }), cs[1]!.ctx);
    assert.equal(w.stream.listenerCount, 1);
    cs[2]!.close();
    assert.equal(w.stream.listenerCount, 0);
  });

  it('many publishes in a row arrive at every subscriber exactly once, in offset order', async () => {
    const subs = ['a', 'b', 'c'].map((s) => fakeConnection(s));
    for (const c of subs) await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:many' }), c.ctx);
    const pub = fakeConnection('p');
    await Promise.all(range(1, 200).map((i) => w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:many', data: i }), pub.ctx)));
    await settle();
    for (const c of subs) assert.deepEqual(offsets(c), range(1, 200));
  });
});

describe('channel handlers: recovery with since', () => {
  let w: World;
  beforeEach(() => (w = world()));
  afterEach(() => w.stream.close());

  async function missed(channel: string, n: number) {
    const pub = fakeConnection('pub');
    const alice = fakeConnection('alice');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 's', channel }), alice.ctx);
    const at = alice.sent[0] as unknown as { offset: number; epoch: string };
    await w.h.publish!(msg({ type: 'publish', id: 0, channel, data: 'seen' }), pub.ctx);
    await settle();
    alice.close();
    for (let i = 1; i <= n; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel, data: `m${i}` }), pub.ctx);
    return { pub, since: { offset: at.offset + 1, epoch: at.epoch } };
  }

  it('delivers exactly the missed publications, in order, before the ok (recovered: true), then live ones', async () => {
    const { pub, since } = await missed('chat:r', 30);
    const back = fakeConnection('alice');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 'r', channel: 'chat:r', since }), back.ctx);
    assert.deepEqual(offsets(back), range(2, 31));
    assert.deepEqual(
      back.of().map((m) => m.data),
      range(1, 30).map((i) => `m${i}`),
    );
    assert.deepEqual(back.sent.at(-1), { type: 'ok', id: 'r', recovered: true, offset: 31, epoch: since.epoch });
    await w.h.publish!(msg({ type: 'publish', id: 99, channel: 'chat:r', data: 'live' }), pub.ctx);
    await settle();
    assert.deepEqual(offsets(back), range(2, 32));
  });

  it('the seam: live publishes during a slow history read are neither lost nor duplicated, and come after the history', async () => {
    const { pub, since } = await missed('chat:seam', 10);
    const watcher = fakeConnection('watcher');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 'w', channel: 'chat:seam' }), watcher.ctx);
    const hold = gate();
    w.stream.gate = hold.promise;
    const back = fakeConnection('alice');
    const recovering = w.h.subscribe!(msg({ type: 'subscribe', id: 'r', channel: 'chat:seam', since }), back.ctx);
    await settle();
    w.stream.gate = null; // publishes go on; only the read already started waits
    for (let i = 11; i <= 15; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:seam', data: `m${i}` }), pub.ctx);
    await settle();
    assert.deepEqual(offsets(watcher), range(12, 16), 'the live subscriber got them at once');
    assert.deepEqual(offsets(back), [], 'the recovering one holds them');
    hold.open();
    await recovering;
    for (let i = 16; i <= 18; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:seam', data: `m${i}` }), pub.ctx);
    await settle();
    assert.deepEqual(offsets(back), range(2, 19), 'each offset once, in order');
    const ok = back.sent.find((m) => m.type === 'ok')!;
    assert.equal(ok.recovered, true);
    assert.ok(back.sent.indexOf(ok) >= 15, 'the ok follows every recovered publication');
  });

  it('recovered: false, nothing older replayed, live ones follow — a foreign epoch, an unknown epoch string, history that no longer reaches back, a position ahead', async () => {
    const { pub, since } = await missed('small:r', 10); // small keeps 5
    const cases = [
      { offset: since.offset, epoch: 'someone-elses-epoch' },
      { offset: since.offset, epoch: 'not a token at all!' },
      { offset: 0, epoch: '' },
      since, // 10 missed, 5 kept
      { offset: 999, epoch: since.epoch },
    ];
    for (const [i, position] of cases.entries()) {
      const c = fakeConnection('alice');
      await w.h.subscribe!(msg({ type: 'subscribe', id: i, channel: 'small:r', since: position }), c.ctx);
      assert.deepEqual(c.sent, [{ type: 'ok', id: i, recovered: false, offset: 11 + i, epoch: since.epoch }], JSON.stringify(position));
      await w.h.publish!(msg({ type: 'publish', id: 100 + i, channel: 'small:r', data: 'live' }), pub.ctx);
      await settle();
      assert.deepEqual(offsets(c), [12 + i], 'live after it');
      c.close();
    }
  });

  it('tells the observer each recovery’s outcome and each resync (for metrics)', async () => {
    const told: string[] = [];
    w.stream.close();
    w = world({ observer: { recovery: (outcome) => told.push(outcome), resynced: (n) => told.push(`resynced ${n}`) } });
    const { since } = await missed('chat:told', 2);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:told', since }), fakeConnection('alice').ctx);
    await w.h.subscribe!(
      msg({ type: 'subscribe', id: 2, channel: 'chat:told', since: { offset: 1, epoch: 'gone' } }),
      fakeConnection('bob').ctx,
    );
    await w.h.subscribe!(msg({ type: 'subscribe', id: 3, channel: 'chat:told' }), fakeConnection('carol').ctx);
    assert.deepEqual(told, ['recovered', 'resync'], 'a subscribe without since is not a recovery');
    await w.stream.inner.abandonEpoch('chat:told', since.epoch, namespaces.historyFor('chat:told')!);
    await w.h.publish!(msg({ type: 'publish', id: 9, channel: 'chat:told', data: 'new' }), fakeConnection('pub').ctx);
    await settle(5);
    assert.deepEqual(told, ['recovered', 'resync', 'resynced 3']);
  });

  it('a position at the head recovers with nothing to send; a subscribe repeated on the same socket answers where it is', async () => {
    const { since } = await missed('chat:head', 0);
    const c = fakeConnection('alice');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:head', since }), c.ctx);
    assert.deepEqual(c.sent, [{ type: 'ok', id: 1, recovered: true, offset: 1, epoch: since.epoch }]);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 2, channel: 'chat:head', since }), c.ctx);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 3, channel: 'chat:head' }), c.ctx);
    assert.deepEqual(c.sent.slice(1), [
      { type: 'ok', id: 2, recovered: true, offset: 1, epoch: since.epoch },
      { type: 'ok', id: 3, offset: 1, epoch: since.epoch },
    ]);
  });

  it('a read failing during recovery is unavailable, leaving no subscription behind', async () => {
    const { since } = await missed('chat:fail', 3);
    const c = fakeConnection('alice');
    const hold = gate();
    w.stream.gate = hold.promise;
    const recovering = w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:fail', since }), c.ctx);
    await settle();
    w.stream.down = true;
    hold.open();
    await recovering;
    w.stream.down = false;
    w.stream.gate = null;
    assert.deepEqual(c.sent, [{ type: 'error', id: 1, code: 'unavailable' }]);
    assert.equal(w.stream.listenerCount, 0);
    assert.deepEqual(await w.presence.stats('chat:fail'), { connections: 0, users: 0 });
  });
});

describe('channel handlers: the feed repairs what live notification loses', () => {
  let w: World;
  beforeEach(() => (w = world()));
  afterEach(() => w.stream.close());

  it('a lost notification (an offset jump) is read back and delivered in order before the next live one', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:gap' }), c.ctx);
    await w.h.publish!(msg({ type: 'publish', id: 1, channel: 'chat:gap', data: 1 }), pub.ctx);
    await settle();
    w.stream.muted = true;
    for (let i = 2; i <= 4; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:gap', data: i }), pub.ctx);
    await settle();
    w.stream.muted = false;
    await w.h.publish!(msg({ type: 'publish', id: 5, channel: 'chat:gap', data: 5 }), pub.ctx);
    await settle(5);
    assert.deepEqual(offsets(c), [1, 2, 3, 4, 5]);
  });

  it('a recovery that read further than the feed has delivered: the feed catching up sends none of it again, then everything newer once', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:ahead' }), c.ctx);
    const { epoch } = c.sent[0] as unknown as { epoch: string };
    w.stream.muted = true; // the feed hears none of 1…3: it stays at 0
    for (let i = 1; i <= 3; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:ahead', data: i }), pub.ctx);
    await settle();
    const back = fakeConnection('bob');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 'r', channel: 'chat:ahead', since: { offset: 0, epoch } }), back.ctx);
    assert.deepEqual(offsets(back), [1, 2, 3], 'recovered from history, ahead of the feed');
    w.stream.muted = false;
    for (let i = 4; i <= 6; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:ahead', data: i }), pub.ctx);
    await settle(5);
    assert.deepEqual(offsets(c), [1, 2, 3, 4, 5, 6], 'the live one: the gap read back, in order');
    assert.deepEqual(offsets(back), [1, 2, 3, 4, 5, 6], 'the recovered one: each once, in order');
  });

  it('resumed(): what was published while the link was down is delivered, without waiting for the next publish', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:res' }), c.ctx);
    w.stream.muted = true;
    for (let i = 1; i <= 3; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:res', data: i }), pub.ctx);
    await settle();
    assert.deepEqual(offsets(c), []);
    w.stream.muted = false;
    w.stream.resume();
    await settle(5);
    assert.deepEqual(offsets(c), [1, 2, 3]);
  });

  it('a catch-up read that fails is retried until the stream answers; more than the pending bound is read back too', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'big:retry' }), c.ctx);
    w.stream.muted = true;
    await w.h.publish!(msg({ type: 'publish', id: 0, channel: 'big:retry', data: 0 }), pub.ctx);
    await settle();
    w.stream.muted = false;
    const hold = gate();
    w.stream.gate = hold.promise;
    await w.h.publish!(msg({ type: 'publish', id: 1, channel: 'big:retry', data: 1 }), pub.ctx); // a gap: the catch-up read waits
    await settle();
    w.stream.gate = null;
    // Many more arrive live while it waits: more than the feed holds.
    const n = MAX_PENDING + 50;
    await Promise.all(range(2, n).map((i) => w.h.publish!(msg({ type: 'publish', id: i, channel: 'big:retry', data: i }), pub.ctx)));
    w.stream.down = true; // the held read now fails, and so does the next
    hold.open();
    await settle(15);
    w.stream.down = false;
    const deadline = Date.now() + 3000;
    while (offsets(c).length < n + 1 && Date.now() < deadline) await settle(10);
    assert.deepEqual(offsets(c).join(), range(1, n + 1).join());
  });

  it('a new epoch: every subscriber gets resync, then the new epoch from its first publication', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    const history = namespaces.historyFor('chat:epoch')!;
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:epoch' }), c.ctx);
    const old = c.sent[0]!.epoch as string;
    await w.h.publish!(msg({ type: 'publish', id: 1, channel: 'chat:epoch', data: 'old' }), pub.ctx);
    await settle();
    // The storage loses the stream (as Redis restarted without persistence), quietly.
    w.stream.muted = true;
    const renewed = await w.stream.inner.abandonEpoch('chat:epoch', old, history);
    await w.h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:epoch', data: 'new-1' }), pub.ctx);
    w.stream.muted = false;
    await w.h.publish!(msg({ type: 'publish', id: 3, channel: 'chat:epoch', data: 'new-2' }), pub.ctx);
    await settle(5);
    assert.deepEqual(
      c.sent.slice(1).map((m) => [m.type, m.data ?? null, m.offset ?? null, m.epoch]),
      [
        ['message', 'old', 1, old],
        ['resync', null, null, renewed.epoch],
        ['message', 'new-1', 1, renewed.epoch],
        ['message', 'new-2', 2, renewed.epoch],
      ],
    );
  });

  it('a stream that went back behind a delivered offset (a restore reused offsets) gets a new epoch, and subscribers a resync', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:back' }), c.ctx);
    for (let i = 1; i <= 3; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'chat:back', data: i }), pub.ctx);
    await settle();
    const old = c.sent[0]!.epoch as string;
    let once = true;
    w.stream.readHook = (result) => {
      if (!once) return result;
      once = false; // the first catch-up read sees the stream at offset 1 of the same epoch
      return { ...result, publications: [], position: { offset: 1, epoch: old }, reachesBack: false };
    };
    w.stream.resume();
    await settle(10);
    assert.deepEqual(w.stream.abandoned, [old]);
    const resync = c.of('resync');
    assert.equal(resync.length, 1);
    assert.notEqual(resync[0]!.epoch, old);
    await w.h.publish!(msg({ type: 'publish', id: 9, channel: 'chat:back', data: 'after' }), pub.ctx);
    await settle(5);
    assert.deepEqual(c.of().at(-1), {
      type: 'message',
      channel: 'chat:back',
      data: 'after',
      from: 'pub',
      offset: 1,
      epoch: resync[0]!.epoch,
    });
  });

  it('more missed than the history keeps: resync (same epoch), then what is still kept', async () => {
    const c = fakeConnection('alice');
    const pub = fakeConnection('pub');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'small:lost' }), c.ctx);
    w.stream.muted = true;
    for (let i = 1; i <= 8; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'small:lost', data: i }), pub.ctx);
    w.stream.muted = false;
    w.stream.resume();
    await settle(5);
    const epoch = c.sent[0]!.epoch as string;
    assert.deepEqual(c.sent.slice(1, 2), [{ type: 'resync', channel: 'small:lost', epoch }]);
    assert.deepEqual(offsets(c), [4, 5, 6, 7, 8]);
  });
});

describe('channel handlers: history, presence, join and leave', () => {
  let w: World;
  beforeEach(() => (w = world({ events: new MemoryBroker() })));
  afterEach(() => w.stream.close());

  it('history: pages after since, limit respected, complete false (and empty) for a foreign epoch or beyond the window', async () => {
    const pub = fakeConnection('pub');
    for (let i = 1; i <= 8; i++) await w.h.publish!(msg({ type: 'publish', id: i, channel: 'small:h', data: i }), pub.ctx);
    const c = fakeConnection('reader');
    await w.h.history!(msg({ type: 'history', id: 1, channel: 'small:h' }), c.ctx);
    const all = c.sent[0]!;
    assert.deepEqual(
      (all.publications as { offset: number }[]).map((p) => p.offset),
      [4, 5, 6, 7, 8],
    );
    assert.deepEqual([all.offset, all.complete, all.channel], [8, true, 'small:h']);
    const epoch = all.epoch as string;
    await w.h.history!(msg({ type: 'history', id: 2, channel: 'small:h', since: { offset: 5, epoch }, limit: 2 }), c.ctx);
    assert.deepEqual(c.sent[1], {
      type: 'history',
      id: 2,
      channel: 'small:h',
      publications: [
        { data: 6, from: 'pub', offset: 6 },
        { data: 7, from: 'pub', offset: 7 },
      ],
      offset: 8,
      epoch,
      complete: true,
    });
    for (const since of [
      { offset: 1, epoch },
      { offset: 5, epoch: 'foreign' },
      { offset: 5, epoch: 'not a token' },
    ]) {
      await w.h.history!(msg({ type: 'history', id: 3, channel: 'small:h', since }), c.ctx);
      assert.deepEqual(c.sent.at(-1), { type: 'history', id: 3, channel: 'small:h', publications: [], offset: 8, epoch, complete: false });
    }
  });

  it('presence lists subscribers (with the info claim), stats count them; join and leave reach the other subscribers', async () => {
    const alice = fakeConnection('alice', { subscribe: ['chat:*'], info: { name: 'Alice' } });
    const bob = fakeConnection('bob');
    const bob2 = fakeConnection('bob');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:p' }), alice.ctx);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:p' }), bob.ctx);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:p' }), bob2.ctx);
    await settle();
    await w.h.presence!(msg({ type: 'presence', id: 2, channel: 'chat:p' }), alice.ctx);
    const list = alice.sent.at(-1) as unknown as { clients: Record<string, unknown>[]; total: number };
    assert.equal(list.total, 3);
    assert.deepEqual(
      list.clients.map((c) => [c.sub, c.conn, c.info]).sort(),
      [
        ['alice', alice.ctx.connectionId, { name: 'Alice' }],
        ['bob', bob.ctx.connectionId, undefined],
        ['bob', bob2.ctx.connectionId, undefined],
      ].sort(),
    );
    assert.ok(!('info' in list.clients.find((c) => c.sub === 'bob')!), 'no info key without an info claim');
    await w.h.presence_stats!(msg({ type: 'presence_stats', id: 3, channel: 'chat:p' }), bob.ctx);
    assert.deepEqual(bob.sent.at(-1), { type: 'presence_stats', id: 3, channel: 'chat:p', connections: 3, users: 2 });
    assert.deepEqual(alice.of('join'), [
      { type: 'join', channel: 'chat:p', sub: 'bob', conn: bob.ctx.connectionId },
      { type: 'join', channel: 'chat:p', sub: 'bob', conn: bob2.ctx.connectionId },
    ]);
    assert.deepEqual(bob.of('join').length, 1, 'not told of its own join');
    await w.h.unsubscribe!(msg({ type: 'unsubscribe', id: 4, channel: 'chat:p' }), bob.ctx);
    bob2.close();
    await settle();
    assert.deepEqual(alice.of('leave'), [
      { type: 'leave', channel: 'chat:p', sub: 'bob', conn: bob.ctx.connectionId },
      { type: 'leave', channel: 'chat:p', sub: 'bob', conn: bob2.ctx.connectionId },
    ]);
    assert.deepEqual(await w.presence.stats('chat:p'), { connections: 1, users: 1 });
  });

  it('presence entries that lapsed (a killed instance) are told as leave, written-back ones as join; only where join-leave is on', async () => {
    let listener: PresenceListener | undefined;
    const presence = Object.assign(new MemoryPresence(), { watch: (l: PresenceListener) => void (listener = l) });
    w.stream.close();
    w = world({ presence });
    const alice = fakeConnection('alice', { subscribe: ['chat:*', 'hist:*'] });
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:k' }), alice.ctx);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 2, channel: 'hist:k' }), alice.ctx);
    listener!.lapsed('chat:k', [{ sub: 'bob', connectionId: 'gone-1' }]);
    listener!.lapsed('hist:k', [{ sub: 'bob', connectionId: 'gone-2' }]); // no join-leave there
    listener!.restored('chat:k', [{ sub: 'carol', connectionId: 'back-1' }]);
    await settle();
    assert.deepEqual(
      alice.sent.filter((m) => m.type === 'join' || m.type === 'leave'),
      [
        { type: 'leave', channel: 'chat:k', sub: 'bob', conn: 'gone-1' },
        { type: 'join', channel: 'chat:k', sub: 'carol', conn: 'back-1' },
      ],
    );
  });

  it('presence in a namespace without history; none where the namespace has none; an oversized info claim is left out', async () => {
    const big = fakeConnection('big', { subscribe: ['room:*', 'live:*'], info: { blob: 'x'.repeat(2000) } });
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'room:1' }), big.ctx);
    await w.h.presence!(msg({ type: 'presence', id: 2, channel: 'room:1' }), big.ctx);
    assert.deepEqual(big.sent.slice(0, 2), [
      { type: 'ok', id: 1 },
      { type: 'presence', id: 2, channel: 'room:1', clients: [{ sub: 'big', conn: big.ctx.connectionId }], total: 1 },
    ]);
    await w.h.presence!(msg({ type: 'presence', id: 3, channel: 'live:1' }), big.ctx);
    await w.h.presence_stats!(msg({ type: 'presence_stats', id: 4, channel: 'live:1' }), big.ctx);
    assert.deepEqual(big.sent.slice(2), [
      { type: 'error', id: 3, code: 'presence_disabled' },
      { type: 'error', id: 4, code: 'presence_disabled' },
    ]);
  });
});

describe('channel handlers: refusals and bad input (error replies, the handlers keep working)', () => {
  let w: World;
  beforeEach(() => (w = world()));
  afterEach(() => w.stream.close());

  it('names, permissions, the subscription cap, and features the namespace does not have', async () => {
    const c = fakeConnection('alice');
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'subscribe', channel: 'no spaces' }, 'invalid_channel'],
      [{ type: 'subscribe', channel: 'user:bob' }, 'forbidden'],
      [{ type: 'publish', channel: 'user:alice', data: 1 }, 'forbidden'],
      [{ type: 'history', channel: 'user:bob' }, 'forbidden'],
      [{ type: 'presence', channel: 'user:bob' }, 'forbidden'],
      [{ type: 'presence_stats', channel: 'user:bob' }, 'forbidden'],
      [{ type: 'history', channel: 'live:x' }, 'history_disabled'],
      [{ type: 'subscribe', channel: 'live:x', since: { offset: 1, epoch: 'e' } }, 'recovery_disabled'],
      [{ type: 'subscribe', channel: 'hist:x', since: { offset: 1, epoch: 'e' } }, 'recovery_disabled'],
      [{ type: 'presence', channel: 'hist:x' }, 'presence_disabled'],
      [{ type: 'history', channel: 42 }, 'invalid_channel'],
    ];
    for (const [i, [m, code]] of cases.entries()) {
      await w.h[m.type as string]!(msg({ ...m, id: i }), c.ctx);
      assert.deepEqual(c.sent.at(-1), { type: 'error', id: i, code }, JSON.stringify(m));
    }
    for (let i = 0; i < 4; i++) await w.h.subscribe!(msg({ type: 'subscribe', id: `ok${i}`, channel: `chat:${i}` }), c.ctx);
    await w.h.subscribe!(msg({ type: 'subscribe', id: 'five', channel: 'chat:5' }), c.ctx);
    assert.deepEqual(c.sent.at(-1), { type: 'error', id: 'five', code: 'too_many_channels' });
  });

  it('since and limit: malformed → invalid_position / invalid_limit', async () => {
    const c = fakeConnection('alice');
    const badSince = [
      null,
      'x',
      [1, 'e'],
      {},
      { offset: -1, epoch: 'e' },
      { offset: 1.5, epoch: 'e' },
      { offset: 2 ** 53, epoch: 'e' },
      { offset: 1e300, epoch: 'e' },
      { offset: '5', epoch: 'e' },
      { offset: 5 },
      { offset: 5, epoch: 7 },
      { offset: 5, epoch: 'e'.repeat(65) },
    ];
    for (const since of badSince) {
      await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:b', since }), c.ctx);
      assert.deepEqual(c.sent.at(-1), { type: 'error', id: 1, code: 'invalid_position' }, `subscribe ${JSON.stringify(since)}`);
      await w.h.history!(msg({ type: 'history', id: 2, channel: 'chat:b', since }), c.ctx);
      assert.deepEqual(c.sent.at(-1), { type: 'error', id: 2, code: 'invalid_position' }, `history ${JSON.stringify(since)}`);
    }
    for (const limit of [0, -1, 1001, 1.5, '10', null, 1e9]) {
      await w.h.history!(msg({ type: 'history', id: 3, channel: 'chat:b', limit }), c.ctx);
      assert.deepEqual(c.sent.at(-1), { type: 'error', id: 3, code: 'invalid_limit' }, `limit ${JSON.stringify(limit)}`);
    }
    await w.h.history!(msg({ type: 'history', id: 4, channel: 'chat:b', limit: 1000 }), c.ctx);
    assert.equal(c.sent.at(-1)!.type, 'history');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 5, channel: 'chat:b' }), c.ctx);
    assert.equal(c.sent.at(-1)!.type, 'ok', 'the handlers still serve this socket');
  });

  it('storage down: subscribe, publish, history and presence answer unavailable (never ok); back up, they work', async () => {
    const c = fakeConnection('alice');
    w.stream.down = true;
    await w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:d' }), c.ctx);
    await w.h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:d', data: 1 }), c.ctx);
    await w.h.publish!(msg({ type: 'publish', id: 3, channel: 'live:d', data: 1 }), c.ctx);
    await w.h.history!(msg({ type: 'history', id: 4, channel: 'chat:d' }), c.ctx);
    assert.deepEqual(
      c.sent.map((m) => [m.id, m.code]),
      [
        [1, 'unavailable'],
        [2, 'unavailable'],
        [3, 'unavailable'],
        [4, 'unavailable'],
      ],
    );
    await w.presence.close(); // presence unavailable
    await w.h.presence!(msg({ type: 'presence', id: 5, channel: 'chat:d' }), c.ctx);
    assert.deepEqual(c.sent.at(-1), { type: 'error', id: 5, code: 'unavailable' });
    w.stream.down = false;
    await w.h.publish!(msg({ type: 'publish', id: 6, channel: 'chat:d', data: 1 }), c.ctx);
    assert.equal(c.sent.at(-1)!.type, 'ok');
    await w.h.subscribe!(msg({ type: 'subscribe', id: 7, channel: 'chat:d' }), c.ctx);
    assert.deepEqual(c.sent.at(-1), { type: 'error', id: 7, code: 'unavailable' }, 'presence down: no half-made subscription');
    assert.equal(w.stream.listenerCount, 0);
  });

  it('a socket that closes while its subscribe waits leaves nothing behind', async () => {
    const c = fakeConnection('alice');
    const hold = gate();
    w.stream.gate = hold.promise;
    const pending = w.h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:gone', since: { offset: 0, epoch: 'x' } }), c.ctx);
    await settle();
    c.close();
    hold.open();
    await pending;
    assert.equal(w.stream.listenerCount, 0);
    assert.deepEqual(await w.presence.stats('chat:gone'), { connections: 0, users: 0 });
  });
});

describe('ChannelService', () => {
  it('publish with an idempotency key stores once; history and presence refuse namespaces without them', async () => {
    const stream = new TestStream();
    const service = createChannelService({ stream, presence: new MemoryPresence(), namespaces });
    const first = await service.publish('chat:i', 'x', 'api', { idempotencyKey: 'order-1' });
    assert.deepEqual(await service.publish('chat:i', 'x', 'api', { idempotencyKey: 'order-1' }), first);
    assert.equal((await service.history('chat:i', { limit: 10 })).publications.length, 1);
    assert.equal(await service.publish('live:i', 'x', 'api'), null);
    const code = (e: unknown) => (e instanceof StorageError ? e.code : String(e));
    await assert.rejects(service.history('live:i', { limit: 10 }), (e) => code(e) === 'history_disabled');
    await assert.rejects(service.presence('hist:i', 10), (e) => code(e) === 'presence_disabled');
    await assert.rejects(service.presenceStats('live:i'), (e) => code(e) === 'presence_disabled');
    await assert.rejects(service.history('bad name', { limit: 10 }), (e) => code(e) === 'invalid_channel');
    await assert.rejects(service.history('chat:i', { limit: 0 }), (e) => code(e) === 'invalid_limit');
    await stream.close();
  });
});

describe('encodedOnce', () => {
  it('a delivery is stringified once for every socket; the text is what JSON.stringify gives, and invisible otherwise', async () => {
    const { encode, encodedOnce } = await import('../../src/protocol/encode.ts');
    const plain = { type: 'message', channel: 'chat:x', data: { a: [1, 'é'] }, from: 'alice', offset: 3, epoch: 'e' };
    const once = encodedOnce({ ...plain });
    assert.equal(encode(once), JSON.stringify(plain));
    assert.deepStrictEqual(once, plain);
    assert.deepEqual(Object.keys(once), Object.keys(plain));
    const original = JSON.stringify;
    let calls = 0;
    JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => (calls++, original(...args))) as typeof JSON.stringify;
    try {
      for (let i = 0; i < 5; i++) encode(once);
    } finally {
      JSON.stringify = original;
    }
    assert.equal(calls, 0);
  });
});
