/** subscribe / unsubscribe / publish over the channel protocol, and re-subscribing after a reconnect. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FakeSocket } from './fakes.ts';
import { settle } from './fakes.ts';
import { harness, leakCheckMaterial, rejection } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

/** Answers every subscribe/unsubscribe/publish frame from `from` on with ok (or the given error). */
function answerAll(socket: FakeSocket, from: number, errors: Record<string, string> = {}): void {
  for (const frame of socket.frames.slice(from)) {
    if (!['subscribe', 'unsubscribe', 'publish'].includes(String(frame.type))) continue;
    const code = errors[String(frame.channel)];
    socket.receive(code ? { type: 'error', id: frame.id, code } : { type: 'ok', id: frame.id });
  }
}

describe('client channels', () => {
  it('subscribes, receives deliveries with from, publishes, unsubscribes', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const got: unknown[] = [];
    const subscribed = h.client.subscribe('chat:lobby', (data, d) => got.push([d.channel, d.from, data]));
    assert.deepEqual(socket.frames[1], { type: 'subscribe', channel: 'chat:lobby', id: socket.frames[1]!.id });
    answerAll(socket, 1);
    await subscribed;
    socket.receive({ type: 'message', channel: 'chat:lobby', data: { text: 'hi' }, from: 'alice' });
    socket.receive({ type: 'message', channel: 'chat:other', data: 'not for us', from: 'bob' });
    assert.deepEqual(got, [['chat:lobby', 'alice', { text: 'hi' }]]);

    const published = h.client.publish('chat:lobby', { text: 'hello' });
    assert.deepEqual(socket.frames[2], { type: 'publish', channel: 'chat:lobby', data: { text: 'hello' }, id: socket.frames[2]!.id });
    answerAll(socket, 2);
    await published;

    const left = h.client.unsubscribe('chat:lobby');
    assert.equal(socket.frames[3]!.type, 'unsubscribe');
    answerAll(socket, 3);
    await left;
    socket.receive({ type: 'message', channel: 'chat:lobby', data: 'late', from: 'alice' });
    assert.equal(got.length, 1);
    h.client.close();
  });

  it('tells the server once per channel, however many handlers', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const a = () => {};
    const b = () => {};
    const both = Promise.all([h.client.subscribe('chat:x', a), h.client.subscribe('chat:x', b)]);
    assert.equal(socket.frames.filter((f) => f.type === 'subscribe').length, 1);
    answerAll(socket, 1);
    await both;
    await h.client.unsubscribe('chat:x', a);
    assert.equal(socket.frames.filter((f) => f.type === 'unsubscribe').length, 0, 'b still listens');
    const last = h.client.unsubscribe('chat:x', b);
    answerAll(socket, 2);
    await last;
    assert.equal(socket.frames.filter((f) => f.type === 'unsubscribe').length, 1);
    h.client.close();
  });

  it('a subscribe made before auth.ok goes out right after it, before held publishes', async () => {
    const h = harness();
    const subscribed = h.client.subscribe('chat:lobby', () => {});
    const published = h.client.publish('chat:lobby', 'early');
    const socket = await h.authenticate();
    assert.deepEqual(
      socket.frames.map((f) => f.type),
      ['auth', 'subscribe', 'publish'],
    );
    answerAll(socket, 1);
    await Promise.all([subscribed, published]);
    h.client.close();
  });

  it('rejects a refused subscribe with the server code and forgets the channel', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const refused = rejection(h.client.subscribe('admin:secret', () => {}));
    answerAll(socket, 1, { 'admin:secret': 'forbidden' });
    const error = await refused;
    assert.equal(error.code, 'server_error');
    assert.equal(error.serverCode, 'forbidden');
    socket.serverClose(1001, 'server going away');
    await h.clock.advance(1_000);
    const next = await h.authenticate();
    assert.deepEqual(
      next.frames.map((f) => f.type),
      ['auth'],
      'not subscribed again',
    );
    const publishRefused = rejection(h.client.publish('user:bob', 'x'));
    answerAll(next, 1, { 'user:bob': 'forbidden' });
    assert.equal((await publishRefused).serverCode, 'forbidden');
    h.client.close();
  });

  it('re-subscribes every channel after a reconnect and keeps delivering to the same handlers', async () => {
    const h = harness();
    const first = await h.authenticate();
    const got: unknown[] = [];
    const subs = Promise.all([h.client.subscribe('chat:lobby', (d) => got.push(d)), h.client.subscribe('user:demo', (d) => got.push(d))]);
    answerAll(first, 1);
    await subs;
    first.serverClose(1001, 'server going away; retry-after-ms=100');
    await h.clock.advance(100);
    const second = await h.authenticate();
    assert.deepEqual(
      second.frames.slice(1).map((f) => `${f.type} ${f.channel}`),
      ['subscribe chat:lobby', 'subscribe user:demo'],
    );
    answerAll(second, 1);
    second.receive({ type: 'message', channel: 'chat:lobby', data: 'after reconnect', from: 'alice' });
    assert.deepEqual(got, ['after reconnect']);
    h.client.close();
  });

  it('a subscribe cut off by a lost connection is retried on the next one and then resolves', async () => {
    const h = harness();
    const first = await h.authenticate();
    let done = false;
    const subscribed = h.client.subscribe('chat:lobby', () => {}).then(() => (done = true));
    first.drop();
    await settle();
    assert.equal(done, false);
    await h.clock.advance(1_000);
    const second = await h.authenticate();
    answerAll(second, 1);
    await subscribed;
    assert.equal(done, true);
    h.client.close();
  });

  it('a refused re-subscribe (nobody waiting) is reported as an error event', async () => {
    const h = harness();
    const first = await h.authenticate();
    const sub = h.client.subscribe('chat:lobby', () => {});
    answerAll(first, 1);
    await sub;
    first.serverClose(1001, 'server going away; retry-after-ms=0');
    await h.clock.advance(0);
    const second = await h.authenticate();
    answerAll(second, 1, { 'chat:lobby': 'too_many_channels' });
    await settle();
    assert.equal((h.errors.at(-1) as { serverCode?: string }).serverCode, 'too_many_channels');
    h.client.close();
  });

  it('a handler that throws does not stop the others and is reported', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const got: unknown[] = [];
    const subs = Promise.all([
      h.client.subscribe('chat:lobby', () => {
        throw new Error('handler bug');
      }),
      h.client.subscribe('chat:lobby', (d) => got.push(d)),
    ]);
    answerAll(socket, 1);
    await subs;
    socket.receive({ type: 'message', channel: 'chat:lobby', data: 1, from: 'x' });
    assert.deepEqual(got, [1]);
    assert.equal(h.errors.at(-1)?.message, 'handler bug');
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
