/**
 * Cases 7 and 9, each on a server of its own: the auth service killed mid-verification, and a
 * slow reader whose replies pile up in the server's send buffer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { login, sleep, ticket } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { STUB_SECRET, startStubAuthService, stubTicket, type StubAuthService } from '../support/stub-auth-service.ts';
import { TestSocket } from '../support/ws-client.ts';
import { assertAlive, ATTACKER, CASE, DEMO_USERS, endpointOf, note, RSS_BOUND_MB, stillServes, targetOf, type Run } from './context.ts';
import { describeClose, openAuthenticatedRaw, watchRss } from './raw.ts';

async function authWith(server: ServerProcess, ticketText: string): Promise<TestSocket> {
  const socket = new TestSocket(server.wsUrl);
  await socket.opened;
  socket.send({ type: 'auth', ticket: ticketText });
  return socket;
}

export function resilienceCases(run: Run): void {
  describe('7. auth service killed mid-verification', () => {
    let stub: StubAuthService | undefined;
    let server: ServerProcess | undefined;
    before(async () => {
      stub = await startStubAuthService();
      server = await startServer(run.runtime, {
        args: ['--auth-verify-url', stub.url, '--verify-timeout', '1s', '--auth-timeout', '5s', '--heartbeat-interval', '1s', '--heartbeat-timeout', '1s'],
        env: { AUTH_VERIFY_SECRET: STUB_SECRET },
      });
    });
    after(async () => {
      await server?.stop();
      await stub?.stop();
    });

    it("a 'hang' ticket, then the stub is stopped → 1013, the server keeps running; a restarted stub authenticates again", CASE, async (t: TestContext) => {
      const hang = stubTicket('hang');
      const socket = await authWith(server!, hang);
      const arrived = await (async () => {
        for (let i = 0; i < 60 && !stub!.calls.some((c) => c.body.ticket === hang); i++) await sleep(50);
        return stub!.calls.some((c) => c.body.ticket === hang);
      })();
      assert.ok(arrived, 'the verification reached the auth service');
      const killedAt = Date.now();
      const port = Number(new URL(stub!.url).port);
      await stub!.stop();
      stub = undefined;
      const closed = await socket.closeCode(5_000);
      const ms = Date.now() - killedAt;
      note(t, run, 'auth service killed mid-verification', `${closed.code} "${closed.reason}" ${ms} ms after the kill`);
      assert.deepEqual(closed, { code: 1013, reason: 'auth service unavailable' });
      assertAlive(server!);
      assert.equal((await request(`${server!.origin}/healthz`)).status, 200);

      stub = await startStubAuthService(port);
      const ok = await authWith(server!, stubTicket('ok'));
      const first = await ok.message(0, 5_000);
      assert.equal(first.type, 'auth.ok', JSON.stringify(first));
      ok.send({ type: 'echo', id: 1, data: 'after restart' });
      assert.deepEqual(await ok.message(1), { type: 'echo', id: 1, data: 'after restart' });
      ok.close();
      await stillServes(t, run);
    });
  });

  describe('9. slow reader', () => {
    // Its own server: a message rate high enough to pile up megabytes of replies, and heartbeats
    // slow enough that the send-buffer limit (not the heartbeat) is what ends the reader.
    let server: ServerProcess | undefined;
    before(async () => {
      server = await startServer(run.runtime, {
        args: [
          '--max-message', '16KiB', '--message-rate', '10000/s,20000', '--max-buffered', '256KiB',
          '--heartbeat-interval', '30s', '--heartbeat-timeout', '10s', '--login-rate', '50/s,100', '--ticket-rate', '200/s,400', '--demo-users', DEMO_USERS,
        ],
      });
    });
    after(async () => {
      await server?.stop();
    });

    it('stops reading, sends 2,000 echo requests of 8 KiB → closed 4413 (or dropped); the server RSS stays bounded', CASE, async (t: TestContext) => {
      const target = targetOf(server!);
      const tk = await ticket(target, await login(target, ATTACKER.username, ATTACKER.password));
      const ws = await openAuthenticatedRaw(endpointOf(server!.origin), tk);
      ws.autoPong = false;
      ws.conn.pause();
      const rss = watchRss(server!.child.pid!);
      const started = Date.now();
      const data = 'd'.repeat(8 * 1024);
      let sent = 0;
      // 100 requests per 50 ms: fast enough to outrun the reader, slow enough that the server's
      // own queue of unprocessed messages (256) is not what closes the socket.
      while (sent < 2_000 && !ws.conn.serverHasClosed()) {
        for (let i = 0; i < 100; i++) void ws.sendJson({ type: 'echo', id: sent++, data });
        await sleep(50);
      }
      let closedWhilePaused = false;
      for (let i = 0; i < 50 && !(closedWhilePaused = ws.conn.serverHasClosed()); i++) await sleep(100);
      const pausedFor = Date.now() - started;
      const memory = rss.stop();
      const closed = await ws.closeResult(5_000, started);
      const echoes = ws.frames.length - 1;
      ws.destroy();
      const limitLogs = server!.logs().filter((l) => l.msg === 'limit.hit' || l.msg === 'ws.close').map((l) => `${l.msg}:${l.code}:${l.limit ?? l.cause ?? ''}`);
      note(
        t,
        run,
        'slow reader',
        `sent ${sent}; server ${closedWhilePaused ? 'ended the connection' : 'kept the connection'} while paused (${pausedFor} ms); ` +
          `then ${describeClose(closed)} after ${echoes} echo replies (${Math.round((echoes * 8) / 1024)} MiB); server RSS +${memory.growthMb} MB; log: ${limitLogs.join(', ') || 'none'}`,
      );
      assertAlive(server!);
      assert.ok(memory.growthMb < RSS_BOUND_MB, `server RSS grew ${memory.growthMb} MB`);
      assert.ok(closed.code === 4413 || closed.code === 1006, `expected 4413 (slow consumer) or a dropped connection, got ${describeClose(closed)}`);
      await stillServes(t, run, server!, target);
      await stillServes(t, run);
    });
  });
}
