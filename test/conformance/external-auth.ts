/**
 * The HTTP verifier against a separate auth service over the network: the secret and binding data
 * are sent, answers map to auth.ok / 4401 / 1013, and a failing auth service never takes down
 * sockets that are already authenticated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestSocket } from '../support/ws-client.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { STUB_SECRET, startStubAuthService, stubTicket, type StubAuthService } from '../support/stub-auth-service.ts';

async function authWith(server: ServerProcess, ticket: string, origin?: string): Promise<TestSocket> {
  const socket = new TestSocket(server.wsUrl, { origin });
  await socket.opened;
  socket.send({ type: 'auth', ticket });
  return socket;
}

export function externalAuthSuite(runtime: RuntimeTarget): void {
  describe(`${runtime}: external auth service over HTTP`, () => {
    let stub: StubAuthService;
    let server: ServerProcess;

    before(async () => {
      stub = await startStubAuthService();
      server = await startServer(runtime, {
        args: [
          '--auth-verify-url',
          stub.url,
          '--verify-timeout',
          '500ms',
          '--session-warning',
          '1s',
          '--allowed-origins',
          'self,http://app.example',
        ],
        env: { AUTH_VERIFY_SECRET: STUB_SECRET },
      });
    });
    after(async () => {
      await server?.stop();
      await stub?.stop();
    });

    it('verifies over HTTP with the bearer secret and the ticket, origin and ip', async () => {
      const ticket = stubTicket('ok');
      const socket = await authWith(server, ticket, 'http://app.example');
      assert.deepEqual(await socket.message(0), { type: 'auth.ok', sub: 'alice', exp: (socket.messages[0] as { exp: number }).exp });
      const call = stub.calls.find((c) => c.body.ticket === ticket);
      assert.ok(call?.authorized, 'bearer secret sent');
      assert.equal(call.body.origin, 'http://app.example');
      assert.match(String(call.body.ip), /127\.0\.0\.1/);
      socket.close();
    });

    it('warns before the session ends and closes 4410 at the exp the auth service returned', async () => {
      const socket = await authWith(server, stubTicket('short'));
      assert.equal((await socket.message(0)).type, 'auth.ok');
      const warning = await socket.message(1, 3_000);
      assert.equal(warning.type, 'session.expiring');
      assert.ok(typeof warning.in === 'number' && warning.in <= 1_000);
      assert.deepEqual(await socket.closeCode(4_000), { code: 4410, reason: 'session expired' });
    });

    it('closes 4401 when the auth service rejects the ticket', async () => {
      const socket = await authWith(server, stubTicket('reject'));
      assert.equal((await socket.closeCode()).code, 4401);
    });

    it('fails closed with 1013 on a 500 and on a timeout, while an authenticated socket keeps working', async () => {
      const survivor = await authWith(server, stubTicket('ok'));
      assert.equal((await survivor.message(0)).type, 'auth.ok');

      const failing = await authWith(server, stubTicket('fail'));
      failing.send({ type: 'echo', id: 1, data: 'queued behind a failing auth' });
      assert.deepEqual(await failing.closeCode(), { code: 1013, reason: 'auth service unavailable' });
      assert.deepEqual(failing.messages, []);

      const hanging = await authWith(server, stubTicket('hang'));
      assert.equal((await hanging.closeCode()).code, 1013);

      survivor.send({ type: 'echo', id: 2, data: 'alive' });
      assert.deepEqual(await survivor.message(1), { type: 'echo', id: 2, data: 'alive' });
      survivor.close();
    });

    it('fails closed with 1013 when the auth service is down, and keeps serving', async () => {
      const survivor = await authWith(server, stubTicket('ok'));
      assert.equal((await survivor.message(0)).type, 'auth.ok');
      await stub.stop();
      const refused = await authWith(server, stubTicket('ok'));
      assert.equal((await refused.closeCode()).code, 1013);
      survivor.send({ type: 'echo', id: 3, data: 'still alive' });
      assert.deepEqual(await survivor.message(1), { type: 'echo', id: 3, data: 'still alive' });
      survivor.close();
      const logs = server.output();
      assert.ok(!logs.includes(STUB_SECRET), 'the verify secret never reaches the log');
    });
  });
}
