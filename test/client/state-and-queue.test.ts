/** Life cycle, fresh tickets, auth first, held sends flushed in order, the queue bound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientError } from '../../src/client/index.ts';
import { FakeSocket, settle } from './fakes.ts';
import { harness, leakCheckMaterial, thrown } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

describe('client life cycle', () => {
  it('goes connecting → authenticating → open, then reconnecting → … → open, then closed', async () => {
    const h = harness();
    assert.equal(h.client.state, 'connecting');
    await settle();
    FakeSocket.last.open();
    assert.equal(h.client.state, 'authenticating');
    FakeSocket.last.authOk();
    assert.equal(h.client.state, 'open');
    assert.equal(h.client.sub, 'demo');
    FakeSocket.last.serverClose(1001, 'server going away');
    assert.equal(h.client.state, 'reconnecting');
    await h.clock.advance(1_000);
    await h.authenticate();
    h.client.close();
    assert.deepEqual(h.states, ['connecting', 'authenticating', 'open', 'reconnecting', 'connecting', 'authenticating', 'open', 'closed']);
    assert.equal(h.clock.pending, 0, 'no timer left behind after close()');
  });

  it('emits state events and never reconnects after its own close(1000)', async () => {
    const h = harness();
    const seen: string[] = [];
    h.client.on('state', ({ state, previous }) => seen.push(`${previous}>${state}`));
    const socket = await h.authenticate();
    h.client.close();
    assert.deepEqual(socket.closedByClient, { code: 1000, reason: 'client closed' });
    await h.clock.advance(120_000);
    assert.equal(FakeSocket.instances.length, 1);
    assert.deepEqual(seen, ['connecting>authenticating', 'authenticating>open', 'open>closed']);
    assert.equal(h.client.lastClose?.byClient, true);
  });

  it('fetches a fresh ticket for every attempt and sends it as the first frame', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) {
      const socket = await h.authenticate();
      socket.serverClose(4401, 'ticket rejected');
      await h.clock.advance(1_000);
    }
    assert.equal(h.tickets.issued.length, 4, 'one ticket per attempt (3 done, the 4th in flight)');
    assert.equal(new Set(h.tickets.issued).size, 4, 'all different');
    FakeSocket.instances.slice(0, 3).forEach((socket, i) => {
      assert.deepEqual(socket.frames[0], { type: 'auth', ticket: h.tickets.issued[i] });
    });
    h.client.close();
  });

  it('holds sends until auth.ok and then flushes them in order, after the auth frame', async () => {
    const h = harness();
    h.client.send({ type: 'echo', data: 1 });
    h.client.send({ type: 'echo', data: 2 });
    await settle();
    const socket = FakeSocket.last;
    socket.open();
    h.client.send({ type: 'echo', data: 3 });
    assert.deepEqual(
      socket.frames.map((f) => f.type),
      ['auth'],
      'nothing but auth before auth.ok',
    );
    // A listener that sends the moment the client opens must not overtake the held messages.
    h.client.on('open', () => h.client.send({ type: 'echo', data: 4 }));
    socket.authOk();
    assert.deepEqual(
      socket.frames.slice(1).map((f) => f.data),
      [1, 2, 3, 4],
    );
    h.client.send({ type: 'echo', data: 5 });
    assert.equal(socket.frames.at(-1)?.data, 5, 'sent straight away once open');
    h.client.close();
  });

  it('keeps held sends across a failed attempt and flushes them on the next connection', async () => {
    const h = harness();
    h.client.send({ type: 'echo', data: 'kept' });
    await settle();
    FakeSocket.last.drop();
    await h.clock.advance(1_000);
    const socket = await h.authenticate();
    assert.deepEqual(
      socket.frames.map((f) => f.type),
      ['auth', 'echo'],
    );
    h.client.close();
  });

  it('bounds the queue: the send past maxPendingSends throws queue_full', async () => {
    const h = harness({ maxPendingSends: 3 });
    for (let i = 0; i < 3; i++) h.client.send({ type: 'echo', data: i });
    const error = thrown(() => h.client.send({ type: 'echo', data: 'one too many' }));
    assert.ok(error instanceof ClientError);
    assert.equal(error.code, 'queue_full');
    assert.match(error.message, /send queue full: 3 messages/);
    const socket = await h.authenticate();
    assert.equal(socket.frames.length, 4, 'auth + the 3 that fitted');
    h.client.close();
  });

  it('after close(), send throws closed and requests reject closed', async () => {
    const h = harness();
    h.client.send({ type: 'echo', data: 'dropped' });
    const pending = h.client.request({ type: 'ping' });
    h.client.close();
    assert.equal(h.client.state, 'closed');
    assert.equal(thrown(() => h.client.send({ type: 'echo' })).code, 'closed');
    assert.equal(((await pending.catch((e: unknown) => e)) as ClientError).code, 'closed');
  });

  it('rejects a message that is not an object with a type', () => {
    const h = harness();
    assert.equal(thrown(() => h.client.send({ type: 5 } as never)).code, 'invalid_message');
    const cyclic: Record<string, unknown> = { type: 'echo' };
    cyclic.self = cyclic;
    assert.equal(thrown(() => h.client.send(cyclic as never)).code, 'invalid_message');
    h.client.close();
  });

  it('needs a WebSocket: a clear error when there is no global one', () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    try {
      assert.throws(() => harness({ WebSocket: undefined }), /no global WebSocket here; pass option WebSocket/);
    } finally {
      if (saved !== undefined) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
