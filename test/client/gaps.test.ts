/**
 * Gaps on a live subscription: an offset jump within one epoch is filled from history (paged,
 * bounded) before later messages reach the app; duplicates are dropped; what cannot be filled is a
 * `resync`, and delivery goes on from the next message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeChannelServer } from './fake-channel-server.ts';
import { settle, type FakeSocket } from './fakes.ts';
import { harness, type Harness } from './harness.ts';
import { watch } from './watch.ts';

const CHANNEL = 'chat:lobby';

async function subscribed(overrides: Parameters<typeof harness>[0] = {}) {
  const h = harness(overrides);
  const server = new FakeChannelServer();
  const socket = await h.authenticate();
  const lobby = h.client.channel(CHANNEL);
  const seen = watch(lobby);
  await lobby.subscribe();
  return { h, server, socket, lobby, seen };
}

function historyFrames(server: FakeChannelServer): Record<string, unknown>[] {
  return server.requests.filter((f) => f.type === 'history').map(({ id: _id, ...rest }) => rest);
}

function message(socket: FakeSocket, offset: number, epoch = 'epoch-1'): void {
  socket.receive({ type: 'message', channel: CHANNEL, data: `m${offset}`, from: 'alice', offset, epoch });
}

async function close(h: Harness): Promise<void> {
  h.client.close();
  await settle();
}

describe('client gap filling', () => {
  it('fills a gap from history before handing later messages over, holding those that arrive meanwhile', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.publish('m1');
    server.publish('m2');
    server.publish('m3', 'alice', [socket]); // lost on the way
    server.publish('m4', 'alice', [socket]);
    server.holdTypes.add('history');
    server.publish('m5');
    await settle();
    assert.deepEqual(historyFrames(server), [{ type: 'history', channel: CHANNEL, since: { offset: 2, epoch: 'epoch-1' }, limit: 2 }]);
    server.publish('m6'); // arrives while the gap is being filled
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'message 2 "m2"'], 'nothing after the gap before it is filled');
    server.answerHeld('history');
    await settle();
    assert.deepEqual(seen.slice(1), [
      'message 1 "m1"',
      'message 2 "m2"',
      'message 3 "m3" recovered',
      'message 4 "m4" recovered',
      'message 5 "m5"',
      'message 6 "m6"',
    ]);
    await close(h);
  });

  it('drops a repeated offset', async () => {
    const { h, socket, seen } = await subscribed();
    message(socket, 1);
    message(socket, 2);
    message(socket, 2);
    message(socket, 1);
    message(socket, 3);
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'message 2 "m2"', 'message 3 "m3"']);
    await close(h);
  });

  it('reads a large gap in pages of 100', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.historySize = 1000;
    server.publish('m1');
    for (let i = 2; i <= 251; i++) server.publish(`m${i}`, 'alice', [socket]);
    server.publish('m252');
    await settle();
    assert.deepEqual(
      historyFrames(server).map((f) => [(f.since as { offset: number }).offset, f.limit]),
      [
        [1, 100],
        [101, 100],
        [201, 50],
      ],
    );
    const offsets = seen.filter((l) => l.startsWith('message')).map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(
      offsets,
      Array.from({ length: 252 }, (_, i) => i + 1),
    );
    await close(h);
  });

  it('a gap larger than maxGapFill is a resync, and delivery goes on from the message after it', async () => {
    const { h, server, socket, seen } = await subscribed({ maxGapFill: 10 });
    server.publish('m1');
    for (let i = 2; i <= 12; i++) server.publish(`m${i}`, 'alice', [socket]);
    server.publish('m13');
    server.publish('m14');
    await settle();
    assert.deepEqual(historyFrames(server), [], 'not even tried');
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync gap_too_large', 'message 13 "m13"', 'message 14 "m14"']);
    await close(h);
  });

  it('history that no longer reaches back is a resync (history_exhausted); held messages follow', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.historySize = 2;
    server.publish('m1');
    for (let i = 2; i <= 5; i++) server.publish(`m${i}`, 'alice', [socket]);
    server.publish('m6');
    await settle();
    assert.equal(historyFrames(server).length, 1);
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync history_exhausted', 'message 6 "m6"']);
    await close(h);
  });

  it('a failed history request: an error event, resync gap_fill_failed, and delivery goes on', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.holdTypes.add('history');
    message(socket, 1);
    message(socket, 4);
    await settle();
    const request = socket.frames.find((f) => f.type === 'history')!;
    socket.receive({ type: 'error', id: request.id, code: 'unavailable' });
    message(socket, 5);
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync gap_fill_failed', 'message 4 "m4"', 'message 5 "m5"']);
    assert.equal((h.errors.at(-1) as { serverCode?: string }).serverCode, 'unavailable');
    await close(h);
  });

  it('a connection lost during a fill: no resync; the resubscribe recovers from the last contiguous offset', async () => {
    const { h, server, socket, seen, lobby } = await subscribed();
    server.publish('m1');
    server.publish('m2', 'alice', [socket]);
    server.holdTypes.add('history');
    server.publish('m3');
    await settle();
    socket.serverClose(1001, 'server going away; retry-after-ms=100');
    server.publish('m4');
    await h.clock.advance(100);
    const next = await h.authenticate();
    await settle();
    assert.deepEqual(next.frames.find((f) => f.type === 'subscribe')!.since, { offset: 1, epoch: 'epoch-1' });
    assert.deepEqual(seen.slice(1), [
      'message 1 "m1"',
      'message 2 "m2" recovered',
      'message 3 "m3" recovered',
      'message 4 "m4" recovered',
      'subscribed 4 recovered',
    ]);
    assert.deepEqual(lobby.position, { offset: 4, epoch: 'epoch-1' });
    await close(h);
  });

  it('holds at most 1000 messages behind a gap: beyond that it gives the gap up (resync) and delivers them', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.holdTypes.add('history');
    message(socket, 1);
    for (let offset = 3; offset <= 1003; offset++) message(socket, offset); // 1001 held behind the missing 2
    await settle();
    const lines = seen.slice(1);
    assert.equal(lines[0], 'message 1 "m1"');
    assert.equal(lines[1], 'resync gap_too_large');
    assert.equal(lines.length, 2 + 1001);
    assert.equal(lines.at(-1), 'message 1003 "m1003"');
    // The history answer for the abandoned fill comes late and changes nothing.
    const request = socket.frames.find((f) => f.type === 'history')!;
    socket.receive({
      type: 'history',
      id: request.id,
      channel: CHANNEL,
      publications: [{ data: 'm2', from: 'a', offset: 2 }],
      offset: 1003,
      epoch: 'epoch-1',
      complete: true,
    });
    await settle();
    assert.equal(seen.length, 1 + 2 + 1001);
    await close(h);
  });

  it('a message from another epoch without a resync frame: resync stream_reset, then it is delivered', async () => {
    const { h, socket, seen, lobby } = await subscribed();
    message(socket, 1);
    message(socket, 7, 'epoch-2');
    message(socket, 8, 'epoch-2');
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync stream_reset', 'message 7 "m7"', 'message 8 "m8"']);
    assert.deepEqual(lobby.position, { offset: 8, epoch: 'epoch-2' });
    await close(h);
  });

  it('a resync frame in the same epoch (the server lost what this subscriber missed): one resync, no history request, the next message follows', async () => {
    const { h, server, socket, seen } = await subscribed();
    message(socket, 1);
    socket.receive({ type: 'resync', channel: CHANNEL, epoch: 'epoch-1' });
    message(socket, 5);
    message(socket, 6);
    await settle();
    assert.deepEqual(historyFrames(server), []);
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync history_exhausted', 'message 5 "m5"', 'message 6 "m6"']);
    await close(h);
  });

  it('a same-epoch resync while a gap is being filled ends the fill: one resync, held messages follow, the late page is ignored', async () => {
    const { h, server, socket, seen } = await subscribed();
    server.holdTypes.add('history');
    message(socket, 1);
    message(socket, 4);
    await settle();
    assert.equal(historyFrames(server).length, 1);
    socket.receive({ type: 'resync', channel: CHANNEL, epoch: 'epoch-1' });
    message(socket, 5);
    const request = server.held[0]!.frame;
    socket.receive({
      type: 'history',
      id: request.id,
      channel: CHANNEL,
      publications: [{ data: 'm2', from: 'a', offset: 2 }],
      offset: 5,
      epoch: 'epoch-1',
      complete: true,
    });
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync history_exhausted', 'message 4 "m4"', 'message 5 "m5"']);
    await close(h);
  });

  it('a new epoch’s first message before the server’s resync frame: one resync, not two', async () => {
    const { h, socket, seen } = await subscribed();
    message(socket, 1);
    message(socket, 1, 'epoch-2');
    socket.receive({ type: 'resync', channel: CHANNEL, epoch: 'epoch-2' });
    message(socket, 2, 'epoch-2');
    await settle();
    assert.deepEqual(seen.slice(1), ['message 1 "m1"', 'resync stream_reset', 'message 1 "m1"', 'message 2 "m2"']);
    await close(h);
  });

  it('a message with the same offset as the subscribe answer, arriving after it, is still delivered (once)', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.publish('m1');
    const socket = await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    server.holdTypes.add('subscribe');
    const confirmed = lobby.subscribe();
    await settle();
    // The stream moved to 2 while the subscribe was answered; its live copy comes after the ok.
    server.top = 2;
    server.answerHeld();
    await confirmed;
    message(socket, 2);
    message(socket, 2);
    await settle();
    assert.deepEqual(seen, ['subscribed 2', 'message 2 "m2"']);
    await close(h);
  });
});
