/**
 * Session expiry that tells the truth: one refresh per warning, only when the new ticket's session
 * ends later than exp; a session at its limit is reported `final`; after 4410 the client stops as
 * `session_expired` instead of reconnecting into 4401s.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientEvents } from '../../src/client/index.ts';
import { FakeSocket, settle } from './fakes.ts';
import { harness, leakCheckMaterial } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

type SessionEvent = ClientEvents['session'];
const refreshFrames = (socket: FakeSocket) => socket.frames.filter((f) => f.type === 'refresh');

describe('client session end', () => {
  it('the issue’s run (ttl 40 s, warning 20 s): one ticket per warning, a refresh only when it extends, no second refresh for the same exp', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    const sessions: SessionEvent[] = [];
    h.client.on('session', (s) => sessions.push(s));
    // Sliding session: 40 s per ticket request, at most 50 s after login.
    h.tickets.reportSessionEnd(now + 40);
    const socket = await h.authenticate(now + 40);
    assert.equal(h.tickets.issued.length, 1);

    await h.clock.advance(20_000); // the server warns 20 s before exp
    h.tickets.reportSessionEnd(now + 50); // now + 20 + 40, capped at the maximum
    socket.receive({ type: 'session.expiring', in: 20_000 });
    await settle();
    assert.equal(h.tickets.issued.length, 2, 'one ticket for the warning');
    const [first] = refreshFrames(socket);
    assert.ok(first, 'the ticket extends the session, so it is sent');
    socket.receive({ type: 'session.refreshed', id: first.id, exp: now + 50 });
    await settle();
    assert.equal(h.client.exp, now + 50);

    // The local fallback timer (10 s before exp) and the server's next warning find it final.
    await h.clock.advance(10_000);
    socket.receive({ type: 'session.expiring', in: 20_000 });
    await settle();
    assert.equal(h.tickets.issued.length, 3, 'one ticket for the second warning');
    assert.equal(refreshFrames(socket).length, 1, 'its session ends no later than exp: no refresh frame');
    await h.clock.advance(10_000); // exp − 10 s: the fallback timer has nothing to do
    socket.receive({ type: 'session.expiring', in: 10_000 }); // even a repeated warning
    await settle();
    assert.equal(h.tickets.issued.length, 3, 'no further ticket for an exp known to be final');
    assert.deepEqual(
      sessions.map((s) => [s.kind, s.exp]),
      [
        ['expiring', now + 40],
        ['refreshed', now + 50],
        ['expiring', now + 50],
        ['final', now + 50],
        ['expiring', now + 50],
      ],
    );

    // At exp the server closes 4410: the client stops and says so, with no reconnect.
    await h.clock.advance(10_000);
    socket.serverClose(4410, 'session expired');
    await h.clock.advance(600_000);
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'session_expired');
    assert.deepEqual(sessions.at(-1), { kind: 'expired', exp: now + 50 });
    assert.equal(FakeSocket.instances.length, 1, 'no reconnect into 4401s');
    assert.equal(h.tickets.issued.length, 3, 'and no ticket spent after the end');
    assert.deepEqual(h.errors, [], 'a session that ran out is not an error');
  });

  it('without sessionExp (a plain-string getTicket) a refresh that does not move exp makes it final', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    const kinds: string[] = [];
    h.client.on('session', (s) => kinds.push(s.kind));
    const socket = await h.authenticate(now + 40);
    socket.receive({ type: 'session.expiring', in: 20_000 });
    await settle();
    socket.receive({ type: 'session.refreshed', id: refreshFrames(socket)[0]!.id, exp: now + 40 });
    await settle();
    socket.receive({ type: 'session.expiring', in: 20_000 });
    await h.clock.advance(40_000);
    assert.equal(refreshFrames(socket).length, 1, 'no second refresh for the same exp');
    assert.equal(h.tickets.issued.length, 2);
    assert.deepEqual(kinds, ['expiring', 'final', 'expiring']);
    h.client.close();
  });

  it('a refresh that failed on the way is retried at the next trigger, and a 4410 then reconnects (the session lives on)', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    h.tickets.reportSessionEnd(now + 40);
    const socket = await h.authenticate(now + 40);
    h.tickets.reportSessionEnd(now + 80);
    socket.receive({ type: 'session.expiring', in: 20_000 });
    await settle();
    socket.receive({ type: 'error', id: refreshFrames(socket)[0]!.id, code: 'refresh_unavailable' });
    await settle();
    assert.equal(h.errors.at(-1)?.message, 'the server refused the request: refresh_unavailable');
    await h.clock.advance(30_000); // the fallback timer at exp − 10 s tries again
    assert.equal(refreshFrames(socket).length, 2, 'not marked final: the failure taught nothing about the end');
    socket.receive({ type: 'error', id: refreshFrames(socket)[1]!.id, code: 'refresh_unavailable' });
    await h.clock.advance(10_000);
    socket.serverClose(4410, 'session expired');
    await h.clock.advance(0);
    assert.equal(h.client.state, 'connecting', 'the tickets showed the session lasting to now + 80: reconnect');
    assert.equal(FakeSocket.instances.length, 2);
    h.client.close();
  });

  it('a 401 from getTicket once exp has passed is session_expired, not logged_out', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    const socket = await h.authenticate(now + 30);
    await h.clock.advance(31_000);
    h.tickets.failWith(Object.assign(new Error('401'), { status: 401 }));
    socket.serverClose(1001, 'server going away; retry-after-ms=0'); // the close came another way
    await h.clock.advance(0);
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'session_expired');
  });

  it('a ticket whose session already ended is not used (it would only earn a 4401)', async () => {
    const h = harness();
    const now = Math.floor(h.clock.now() / 1000);
    h.tickets.reportSessionEnd(now);
    await settle();
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'session_expired');
    assert.equal(FakeSocket.instances.length, 0, 'no socket opened');
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
