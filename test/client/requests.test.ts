/** Request/response by id: replies in any order, error replies, timeouts, lost connections. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeSocket, settle } from './fakes.ts';
import { harness, leakCheckMaterial, rejection } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

describe('client requests', () => {
  it('matches replies to requests by id, whatever their order', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const a = h.client.request({ type: 'echo', data: 'a' });
    const b = h.client.request({ type: 'echo', data: 'b' });
    const [fa, fb] = socket.frames.slice(1);
    assert.notEqual(fa!.id, fb!.id);
    socket.receive({ type: 'echo', id: fb!.id, data: 'b' });
    socket.receive({ type: 'echo', id: fa!.id, data: 'a' });
    assert.deepEqual(await a, { type: 'echo', id: fa!.id, data: 'a' });
    assert.deepEqual(await b, { type: 'echo', id: fb!.id, data: 'b' });
    h.client.close();
  });

  it('queues a request made before auth.ok and resolves it after', async () => {
    const h = harness();
    const reply = h.client.request({ type: 'ping' });
    const socket = await h.authenticate();
    const ping = socket.frames[1]!;
    assert.equal(ping.type, 'ping');
    socket.receive({ type: 'pong', id: ping.id });
    assert.equal((await reply).type, 'pong');
    h.client.close();
  });

  it('rejects with server_error and the server code on an error reply', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const reply = h.client.request({ type: 'nope' });
    socket.receive({ type: 'error', id: socket.frames[1]!.id, code: 'unknown_type' });
    const error = await rejection(reply);
    assert.equal(error.code, 'server_error');
    assert.equal(error.serverCode, 'unknown_type');
    h.client.close();
  });

  it('times out after requestTimeoutMs (or the per-call timeout), and a late reply is a plain message', async () => {
    const h = harness({ requestTimeoutMs: 2_000 });
    const socket = await h.authenticate();
    const slow = h.client.request({ type: 'echo', data: 1 });
    const quick = h.client.request({ type: 'echo', data: 2 }, { timeoutMs: 100 });
    const quickFailed = rejection(quick);
    await h.clock.advance(100);
    assert.equal((await quickFailed).code, 'timeout');
    const slowFailed = rejection(slow);
    await h.clock.advance(1_900);
    const error = await slowFailed;
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /no reply within 2000 ms/);
    const pushed: unknown[] = [];
    h.client.on('message', (m) => pushed.push(m));
    socket.receive({ type: 'echo', id: socket.frames[1]!.id, data: 1 });
    assert.equal(pushed.length, 1);
    h.client.close();
  });

  it('drops a queued request that timed out before the connection opened (it is never sent late)', async () => {
    const h = harness({ requestTimeoutMs: 1_000 });
    const failed = rejection(h.client.request({ type: 'ping' }));
    await settle();
    const socket = FakeSocket.last;
    await h.clock.advance(1_000);
    assert.equal((await failed).code, 'timeout');
    socket.open();
    socket.authOk();
    assert.deepEqual(
      socket.frames.map((f) => f.type),
      ['auth'],
    );
    h.client.close();
  });

  it('rejects requests in flight with connection_lost when their socket closes', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const failed = rejection(h.client.request({ type: 'echo', data: 'x' }));
    socket.serverClose(1011, 'internal error');
    assert.equal((await failed).code, 'connection_lost');
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
