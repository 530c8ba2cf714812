/**
 * Recovery across reconnects: the SDK keeps each subscription's position, resubscribes with `since`
 * after every reconnect, hands the app what was missed (once, in order, marked recovered) and says
 * `subscribed {recovered}` — or `resync` when the server could not recover.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeChannelServer } from './fake-channel-server.ts';
import { settle, type FakeSocket } from './fakes.ts';
import { harness, leakCheckMaterial, rejection, type Harness } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';
import { watch } from './watch.ts';

const CHANNEL = 'chat:lobby';

/** The server goes away (1001 with a 100 ms hint) and the client comes back on a new socket. */
async function reconnect(h: Harness, socket: FakeSocket, meanwhile: () => void = () => {}): Promise<FakeSocket> {
  socket.serverClose(1001, 'server going away; retry-after-ms=100');
  meanwhile();
  await h.clock.advance(100);
  const next = await h.authenticate();
  await settle();
  return next;
}

function subscribeFrames(socket: FakeSocket): Record<string, unknown>[] {
  return socket.frames.filter((f) => f.type === 'subscribe').map(({ id: _id, ...rest }) => rest);
}

describe('client recovery after a reconnect', () => {
  it('resubscribes from its position and hands over what was missed, once, in order, then live ones', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.publish('old-1');
    server.publish('old-2');
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    const subscribed = await lobby.subscribe();
    assert.deepEqual(subscribed, { channel: CHANNEL, position: { offset: 2, epoch: 'epoch-1' }, wasRecovering: false, recovered: false });
    assert.deepEqual(subscribeFrames(first), [{ type: 'subscribe', channel: CHANNEL }]);
    server.publish('live-3');
    await settle();

    const second = await reconnect(h, first, () => {
      server.publish('missed-4');
      server.publish('missed-5');
    });
    assert.deepEqual(subscribeFrames(second), [{ type: 'subscribe', channel: CHANNEL, since: { offset: 3, epoch: 'epoch-1' } }]);
    server.publish('live-6');
    await settle();
    assert.deepEqual(seen, [
      'subscribed 2',
      'message 3 "live-3"',
      'message 4 "missed-4" recovered',
      'message 5 "missed-5" recovered',
      'subscribed 5 recovered',
      'message 6 "live-6"',
    ]);
    assert.deepEqual(lobby.position, { offset: 6, epoch: 'epoch-1' });

    // And after every further reconnect, from wherever it has got to.
    const third = await reconnect(h, second, () => server.publish('missed-7'));
    assert.deepEqual(subscribeFrames(third), [{ type: 'subscribe', channel: CHANNEL, since: { offset: 6, epoch: 'epoch-1' } }]);
    assert.deepEqual(seen.slice(6), ['message 7 "missed-7" recovered', 'subscribed 7 recovered']);
    h.client.close();
  });

  it('client.subscribe handlers get the recovered flag and the offset in the delivery', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const first = await h.authenticate();
    const got: string[] = [];
    await h.client.subscribe(CHANNEL, (data, d) => got.push(`${d.channel} ${d.from} ${d.offset} ${String(data)} ${d.recovered}`));
    server.publish('a', 'alice');
    await reconnect(h, first, () => server.publish('b', 'bob'));
    assert.deepEqual(got, ['chat:lobby alice 1 a false', 'chat:lobby bob 2 b true']);
    h.client.close();
  });

  it('never hands the app an offset twice, even when the server replays one it already delivered', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.publish('one');
    server.publish('two');
    await settle();
    first.receive({ type: 'message', channel: CHANNEL, data: 'two again', from: 'alice', offset: 2, epoch: 'epoch-1' });
    server.holdTypes.add('subscribe');
    const second = await reconnect(h, first);
    const frame = server.held[0]!.frame;
    // A sloppy replay: offsets 1 and 2 again, then 3.
    for (const [offset, data] of [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ] as const)
      second.receive({ type: 'message', channel: CHANNEL, data, from: 'alice', offset, epoch: 'epoch-1' });
    second.receive({ type: 'ok', id: frame.id, recovered: true, offset: 3, epoch: 'epoch-1' });
    await settle();
    assert.deepEqual(seen, ['subscribed 0', 'message 1 "one"', 'message 2 "two"', 'message 3 "three" recovered', 'subscribed 3 recovered']);
    h.client.close();
  });

  it('recovered:false (the history no longer reaches back): subscribed says so, resync follows, live messages go on', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.historySize = 2;
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.publish('seen-1');
    await settle();
    const second = await reconnect(h, first, () => ['lost-2', 'kept-3', 'kept-4'].forEach((d) => server.publish(d)));
    assert.deepEqual(subscribeFrames(second)[0]!.since, { offset: 1, epoch: 'epoch-1' });
    server.publish('live-5');
    await settle();
    assert.deepEqual(seen, [
      'subscribed 0',
      'message 1 "seen-1"',
      'subscribed 4 not-recovered',
      'resync history_exhausted',
      'message 5 "live-5"',
    ]);
    assert.deepEqual(lobby.position, { offset: 5, epoch: 'epoch-1' });
    h.client.close();
  });

  it('a new epoch on resubscribe (the stream was lost): resync stream_reset, and the new epoch is followed', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.publish('old');
    await settle();
    await reconnect(h, first, () => {
      server.resetStream('epoch-2', false);
      server.publish('new-1');
    });
    server.publish('new-2');
    await settle();
    assert.deepEqual(seen, ['subscribed 0', 'message 1 "old"', 'subscribed 1 not-recovered', 'resync stream_reset', 'message 2 "new-2"']);
    assert.deepEqual(lobby.position, { offset: 2, epoch: 'epoch-2' });
    h.client.close();
  });

  it('a channel without history: resubscribes without since and reports no recovery', async () => {
    const h = harness();
    const server = new FakeChannelServer('live:x');
    server.history = false;
    const first = await h.authenticate();
    const live = h.client.channel('live:x');
    const seen = watch(live);
    await live.subscribe();
    server.publish('hello');
    await settle();
    const second = await reconnect(h, first);
    assert.deepEqual(subscribeFrames(second), [{ type: 'subscribe', channel: 'live:x' }]);
    assert.deepEqual(seen, ['subscribed -', 'message - "hello"', 'subscribed -']);
    assert.equal(live.position, null);
    h.client.close();
  });

  it('recovery_disabled: subscribes again without since, says resync, and stops asking for recovery', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.recovery = false;
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.publish('one');
    await settle();
    const second = await reconnect(h, first, () => server.publish('missed'));
    assert.deepEqual(subscribeFrames(second), [
      { type: 'subscribe', channel: CHANNEL, since: { offset: 1, epoch: 'epoch-1' } },
      { type: 'subscribe', channel: CHANNEL },
    ]);
    const third = await reconnect(h, second);
    assert.deepEqual(subscribeFrames(third), [{ type: 'subscribe', channel: CHANNEL }], 'no since once the namespace said no');
    assert.deepEqual(seen, [
      'subscribed 0',
      'message 1 "one"',
      'subscribed 2 not-recovered',
      'resync recovery_disabled',
      'subscribed 2 not-recovered',
      'resync recovery_disabled',
    ]);
    assert.equal(h.errors.length, 0, 'recovery_disabled is not an error');
    h.client.close();
  });

  it('subscribe({since}) starts from a position the app kept (e.g. across a page load)', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    ['a', 'b', 'c'].forEach((d) => server.publish(d));
    const socket = await h.authenticate();
    const got: unknown[] = [];
    const subscribed = await h.client.subscribe(CHANNEL, (data, d) => got.push([data, d.recovered]), {
      since: { offset: 1, epoch: 'epoch-1' },
    });
    assert.deepEqual(subscribeFrames(socket), [{ type: 'subscribe', channel: CHANNEL, since: { offset: 1, epoch: 'epoch-1' } }]);
    assert.deepEqual(got, [
      ['b', true],
      ['c', true],
    ]);
    assert.equal(subscribed.recovered, true);
    assert.equal(subscribed.wasRecovering, true);
    const bad = await rejection(h.client.channel('chat:other').subscribe({ since: { offset: -1, epoch: 'x' } }));
    assert.equal(bad.code, 'invalid_message');
    h.client.close();
  });

  it('the server’s resync frame: resync stream_reset; the new epoch is recovered from its start after a reconnect', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.publish('old');
    await settle();
    server.resetStream('epoch-2');
    await settle();
    assert.deepEqual(lobby.position, { offset: 0, epoch: 'epoch-2' });
    const second = await reconnect(h, first, () => server.publish('new-1'));
    assert.deepEqual(subscribeFrames(second)[0]!.since, { offset: 0, epoch: 'epoch-2' });
    assert.deepEqual(seen, [
      'subscribed 0',
      'message 1 "old"',
      'resync stream_reset',
      'message 1 "new-1" recovered',
      'subscribed 1 recovered',
    ]);
    h.client.close();
  });

  it('unsubscribe forgets the position: the next subscribe starts afresh; a pending subscribe() rejects with unsubscribed', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const socket = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    await lobby.subscribe();
    server.publish('x');
    await settle();
    assert.notEqual(lobby.position, null);
    await lobby.unsubscribe();
    assert.equal(lobby.position, null);
    assert.equal(lobby.state, 'unsubscribed');
    await lobby.subscribe();
    assert.deepEqual(subscribeFrames(socket).at(-1), { type: 'subscribe', channel: CHANNEL });
    await lobby.unsubscribe();

    server.holdTypes.add('subscribe');
    const pending = rejection(lobby.subscribe());
    await lobby.unsubscribe();
    assert.equal((await pending).code, 'unsubscribed');
    h.client.close();
  });

  it('a subscription left waiting by a reconnect is confirmed on the next connection, from its position', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    const first = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    await lobby.subscribe();
    server.publish('one');
    await settle();
    server.holdTypes.add('subscribe');
    const second = await reconnect(h, first);
    assert.equal(lobby.state, 'subscribing');
    // The answer for the dead connection must not count: the socket drops before it comes.
    const third = await reconnect(h, second);
    server.holdTypes.clear();
    server.answerHeld();
    await settle();
    assert.equal(lobby.state, 'subscribed');
    assert.deepEqual(subscribeFrames(third)[0]!.since, { offset: 1, epoch: 'epoch-1' });
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
