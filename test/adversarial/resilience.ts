/** Case 7, on a server of its own: the auth service killed mid-verification. */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { sleep } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { STUB_SECRET, startStubAuthService, stubTicket, type StubAuthService } from '../support/stub-auth-service.ts';
import { TestSocket } from '../support/ws-client.ts';
import { assertAlive, CASE, note, stillServes, type Run } from './context.ts';

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
        args: [
          '--auth-verify-url',
          stub.url,
          '--verify-timeout',
          '1s',
          '--auth-timeout',
          '5s',
          '--heartbeat-interval',
          '1s',
          '--heartbeat-timeout',
          '1s',
        ],
        env: { AUTH_VERIFY_SECRET: STUB_SECRET },
      });
    });
    after(async () => {
      await server?.stop();
      await stub?.stop();
    });

    it(
      "a 'hang' ticket, then the stub is stopped → 1013, the server keeps running; a restarted stub authenticates again",
      CASE,
      async (t: TestContext) => {
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
      },
    );
  });
}
