/** Session refresh before expiry as a single flight. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from './fakes.ts';
import { harness, leakCheckMaterial, rejection } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

describe('client session refresh', () => {
  it('5 concurrent triggers → 1 refresh frame and 1 ticket; all share the result', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const exp = Math.floor(h.clock.now() / 1000) + 600;
    const calls = [h.client.refresh(), h.client.refresh(), h.client.refresh()];
    socket.receive({ type: 'session.expiring', in: 60_000 });
    socket.receive({ type: 'session.expiring', in: 59_000 });
    calls.push(h.client.refresh());
    await settle();
    const refreshes = socket.frames.filter((f) => f.type === 'refresh');
    assert.equal(refreshes.length, 1);
    assert.equal(h.tickets.issued.length, 2, 'the connect ticket and one refresh ticket');
    assert.equal(refreshes[0]!.ticket, h.tickets.issued[1]);
    socket.receive({ type: 'session.refreshed', id: refreshes[0]!.id, exp });
    assert.deepEqual(await Promise.all(calls), [exp, exp, exp, exp]);
    assert.equal(h.client.exp, exp);
    // Once settled, the next trigger starts a new flight.
    const again = h.client.refresh();
    await settle();
    assert.equal(socket.frames.filter((f) => f.type === 'refresh').length, 2);
    socket.receive({ type: 'session.refreshed', id: socket.frames.at(-1)!.id, exp: exp + 600 });
    assert.equal(await again, exp + 600);
    h.client.close();
  });

  it('refreshes by itself at exp − refreshBeforeMs and re-arms for the new exp', async () => {
    const h = harness({ refreshBeforeMs: 30_000 });
    const now = Math.floor(h.clock.now() / 1000);
    const socket = await h.authenticate(now + 120);
    await h.clock.advance(89_000);
    assert.equal(socket.frames.filter((f) => f.type === 'refresh').length, 0);
    await h.clock.advance(1_000);
    const refresh = socket.frames.find((f) => f.type === 'refresh');
    assert.ok(refresh, 'refreshed 30 s before exp');
    const sessions: unknown[] = [];
    h.client.on('session', (s) => sessions.push(s));
    socket.receive({ type: 'session.refreshed', id: refresh.id, exp: now + 300 });
    await settle();
    assert.deepEqual(sessions, [{ kind: 'refreshed', exp: now + 300 }]);
    await h.clock.advance(180_000);
    assert.equal(socket.frames.filter((f) => f.type === 'refresh').length, 2, 're-armed for the new exp');
    h.client.close();
  });

  it('with no warning from the server, the fallback refreshes 10 s before exp by default', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    const socket = await h.authenticate(now + 120);
    await h.clock.advance(109_999);
    assert.equal(socket.frames.filter((f) => f.type === 'refresh').length, 0);
    await h.clock.advance(1);
    assert.equal(socket.frames.filter((f) => f.type === 'refresh').length, 1);
    h.client.close();
  });

  it('a refused refresh rejects with the server code; the socket stays up', async () => {
    const h = harness();
    const socket = await h.authenticate();
    const refused = rejection(h.client.refresh());
    await settle();
    const frame = socket.frames.find((f) => f.type === 'refresh')!;
    socket.receive({ type: 'error', id: frame.id, code: 'refresh_rejected' });
    const error = await refused;
    assert.equal(error.serverCode, 'refresh_rejected');
    assert.equal(h.client.state, 'open');
    h.client.close();
  });

  it('refresh while not connected rejects not_connected; a 401 from getTicket rejects logged_out', async () => {
    const h = harness();
    assert.equal((await rejection(h.client.refresh())).code, 'not_connected');
    await h.authenticate();
    h.tickets.failWith(Object.assign(new Error('401'), { status: 401 }));
    assert.equal((await rejection(h.client.refresh())).code, 'logged_out');
    assert.equal(h.client.state, 'open', 'the live socket is left to the server (it closes 4409 on logout)');
    h.client.close();
  });

  it('a session.expiring whose refresh fails is reported as an error event, not thrown', async () => {
    const h = harness();
    const socket = await h.authenticate();
    socket.receive({ type: 'session.expiring', in: 1000 });
    await settle();
    const frame = socket.frames.find((f) => f.type === 'refresh')!;
    socket.receive({ type: 'error', id: frame.id, code: 'refresh_unavailable' });
    await settle();
    assert.equal((h.errors.at(-1) as { serverCode?: string }).serverCode, 'refresh_unavailable');
    assert.ok(h.logs.some((l) => l.includes('refresh.failed') && l.includes('refresh_unavailable')));
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
