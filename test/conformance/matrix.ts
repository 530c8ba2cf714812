/** One runtime's full check: the conformance suite plain and over TLS, external auth, metrics and readiness, shutdown, config errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { testCerts } from '../support/certs.ts';
import { authenticated, issuedSecrets } from '../support/flow.ts';
import { projectRoot, serverCommand, startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { ADMIN_TOKEN, conformanceServerArgs, conformanceSuite } from './suite.ts';
import { externalAuthSuite } from './external-auth.ts';
import { metricsSuite } from './metrics.ts';

export function runtimeMatrix(runtime: RuntimeTarget): void {
  for (const tls of [false, true]) {
    describe(`${runtime}${tls ? ' over wss://' : ''}`, () => {
      let server: ServerProcess;
      let ca: string | undefined;
      before(async () => {
        const certs = tls ? testCerts() : undefined;
        ca = certs?.caPem;
        const tlsArgs = certs ? ['--tls', '--cert', certs.cert, '--key', certs.key] : [];
        server = await startServer(runtime, { args: [...conformanceServerArgs, ...tlsArgs], tls });
      });
      after(async () => {
        await server?.stop();
      });

      conformanceSuite(() => ({ origin: server.origin, wsUrl: server.wsUrl, ca }));

      it('never logs a ticket, session cookie, password or the admin token', () => {
        const output = server.output();
        assert.ok(issuedSecrets.length > 0);
        for (const secret of [...issuedSecrets, 'eve-password', ADMIN_TOKEN]) assert.ok(!output.includes(secret), 'a secret reached the log');
        assert.match(output, /"msg":"login.ok"/, 'the log was captured');
      });

      it('on SIGTERM closes sockets with 1001 and exits 0', async () => {
        const socket = await authenticated({ origin: server.origin, wsUrl: server.wsUrl, ca });
        const code = server.stop('SIGTERM');
        assert.equal((await socket.closeCode()).code, 1001);
        assert.equal(await code, 0);
      });
    });
  }

  externalAuthSuite(runtime);
  metricsSuite(runtime);

  describe(`${runtime}: configuration errors`, () => {
    it('exits 2 with one line naming the bad option', () => {
      const { command, args } = serverCommand(runtime);
      const result = spawnSync(command, [...args, '--port', 'not-a-port'], { cwd: projectRoot, encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /--port/);
    });

    it('prints --help listing every option', () => {
      const { command, args } = serverCommand(runtime);
      const result = spawnSync(command, [...args, '--help'], { cwd: projectRoot, encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 0);
      for (const flag of ['--port', '--host', '--tls', '--auth-verify-url', '--ticket-ttl', '--auth-timeout']) assert.match(result.stdout, new RegExp(flag));
    });
  });
}
