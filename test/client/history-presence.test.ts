/** history(), presence(), presenceStats(), join/leave events and publish's position, on the fakes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeChannelServer } from './fake-channel-server.ts';
import { settle } from './fakes.ts';
import { harness, rejection, thrown } from './harness.ts';
import { watch } from './watch.ts';

const CHANNEL = 'chat:lobby';

describe('client history, presence and join/leave', () => {
  it('history(channel, {since, limit}) sends the documented request and returns the page', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    ['a', 'b', 'c', 'd'].forEach((d) => server.publish(d, 'alice'));
    const socket = await h.authenticate();
    const page = await h.client.history(CHANNEL, { since: { offset: 1, epoch: 'epoch-1' }, limit: 2 });
    const frame = socket.frames.find((f) => f.type === 'history')!;
    assert.deepEqual(frame, { type: 'history', channel: CHANNEL, since: { offset: 1, epoch: 'epoch-1' }, limit: 2, id: frame.id });
    assert.deepEqual(page, {
      channel: CHANNEL,
      publications: [
        { data: 'b', from: 'alice', offset: 2, epoch: 'epoch-1' },
        { data: 'c', from: 'alice', offset: 3, epoch: 'epoch-1' },
      ],
      position: { offset: 4, epoch: 'epoch-1' },
      complete: true,
    });
    const all = await h.client.channel(CHANNEL).history();
    assert.equal(all.publications.length, 4, 'no since: from the oldest kept');
    const gone = await h.client.history(CHANNEL, { since: { offset: 1, epoch: 'another' } });
    assert.equal(gone.complete, false);
    h.client.close();
  });

  it('history waits for auth.ok like any request; bad arguments are refused before anything is sent', async () => {
    const h = harness();
    new FakeChannelServer();
    const early = h.client.history(CHANNEL, { limit: 5 });
    const socket = await h.authenticate();
    assert.equal((await early).channel, CHANNEL);
    const sent = socket.frames.length;
    for (const [options, what] of [
      [{ limit: 0 }, 'limit 0'],
      [{ limit: 1001 }, 'limit over 1000'],
      [{ limit: 2.5 }, 'a fractional limit'],
      [{ since: { offset: -1, epoch: 'e' } }, 'a negative offset'],
      [{ since: { offset: 2 ** 53, epoch: 'e' } }, 'an unsafe offset'],
      [{ since: { offset: 1, epoch: 'e'.repeat(65) } }, 'an epoch over 64 characters'],
      [{ since: { offset: '1', epoch: 'e' } }, 'a string offset'],
    ] as const) {
      const error = await rejection(h.client.history(CHANNEL, options as never));
      assert.equal(error.code, 'invalid_message', what);
    }
    assert.equal((await rejection(h.client.history('', {}))).code, 'invalid_message');
    assert.equal(socket.frames.length, sent, 'nothing went out');
    h.client.close();
  });

  it('server refusals reach the caller with their code (history_disabled, forbidden)', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.history = false;
    await h.authenticate();
    const error = await rejection(h.client.history(CHANNEL));
    assert.equal(error.code, 'server_error');
    assert.equal(error.serverCode, 'history_disabled');
    h.client.close();
  });

  it('presence(channel) lists the clients; presenceStats(channel) counts them', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    server.clients = [
      { sub: 'demo', conn: 'c1' },
      { sub: 'alice', conn: 'c2', info: { name: 'Alice' } },
      { sub: 'alice', conn: 'c3' },
    ];
    await h.authenticate();
    assert.deepEqual(await h.client.presence(CHANNEL), {
      channel: CHANNEL,
      clients: [
        { sub: 'demo', conn: 'c1' },
        { sub: 'alice', conn: 'c2', info: { name: 'Alice' } },
        { sub: 'alice', conn: 'c3' },
      ],
      total: 3,
    });
    assert.deepEqual(await h.client.channel(CHANNEL).presenceStats(), { channel: CHANNEL, connections: 3, users: 2 });
    h.client.close();
  });

  it('a reply without the documented shape fails with invalid_reply', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const cases: [Promise<unknown>, Record<string, unknown>][] = [
      [h.client.presence(CHANNEL), { type: 'presence', clients: 'everyone', total: 1 }],
      [h.client.presenceStats(CHANNEL), { type: 'presence_stats', connections: -1, users: 0 }],
      [h.client.history(CHANNEL), { type: 'history', publications: [{ offset: 'one' }], offset: 1, epoch: 'e', complete: true }],
      [h.client.history(CHANNEL), { type: 'ok' }],
    ];
    for (const [i, frame] of socket.frames.slice(1).entries()) socket.receive({ ...cases[i]![1], id: frame.id });
    for (const [promise] of cases) assert.equal((await rejection(promise)).code, 'invalid_reply');
    h.client.close();
  });

  it('join and leave reach the subscription’s listeners (and only while subscribed)', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    await lobby.subscribe();
    server.announce('join', 'alice', 'c2');
    server.announce('leave', 'alice', 'c2');
    await settle();
    await lobby.unsubscribe();
    server.announce('join', 'bob', 'c3');
    await settle();
    assert.deepEqual(seen, ['subscribed 0', 'join alice c2', 'leave alice c2', 'unsubscribed']);
    h.client.close();
  });

  it('publish resolves with the stored position (null for a channel without history)', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    await h.authenticate();
    assert.deepEqual(await h.client.publish(CHANNEL, 'x'), { offset: 1, epoch: 'epoch-1' });
    assert.deepEqual(await h.client.channel(CHANNEL).publish('y'), { offset: 2, epoch: 'epoch-1' });
    server.history = false;
    assert.equal(await h.client.publish(CHANNEL, 'z'), null);
    h.client.close();
  });

  it('channel() gives one handle per channel; a listener that throws is reported, others still run', async () => {
    const h = harness();
    const server = new FakeChannelServer();
    await h.authenticate();
    const lobby = h.client.channel(CHANNEL);
    assert.equal(h.client.channel(CHANNEL), lobby);
    assert.equal(thrown(() => h.client.channel('')).code, 'invalid_message');
    const got: unknown[] = [];
    lobby.on('message', () => {
      throw new Error('listener bug');
    });
    lobby.on('message', (m) => got.push(m.data));
    await lobby.subscribe();
    server.publish('hi');
    await settle();
    assert.deepEqual(got, ['hi']);
    assert.equal(h.errors.at(-1)?.message, 'listener bug');
    await h.client.removeChannel(CHANNEL);
    assert.notEqual(h.client.channel(CHANNEL), lobby, 'removeChannel forgets the handle');
    h.client.close();
  });

  it('closing the client ends every subscription: pending subscribes reject, listeners hear unsubscribed', async () => {
    const h = harness();
    const lobby = h.client.channel(CHANNEL);
    const seen = watch(lobby);
    const pending = rejection(lobby.subscribe());
    h.client.close();
    assert.equal((await pending).code, 'closed');
    assert.deepEqual(seen, ['unsubscribed closed']);
    assert.equal(lobby.state, 'unsubscribed');
  });
});
