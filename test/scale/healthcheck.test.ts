/**
 * `hardened-ws healthcheck`, the container's liveness probe: it must pass
 * while the server is alive but not ready (Redis unreachable: /readyz 503), or an orchestrator
 * that replaces unhealthy containers would restart every instance during a Redis outage. It must
 * fail (exit 1, one line) when nothing answers, and follow HOST/PORT/TLS as the server reads them.
 * Run on Node, Bun, Deno and the compiled binary, as real processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { testCerts } from '../support/certs.ts';
import { request } from '../support/http.ts';
import { closedPortUrl, freePort } from '../support/redis-server.ts';
import { projectRoot, serverCommand, startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';

/** Runs `<runtime> healthcheck` with exactly `env` (plus PATH and whatever the runtime needs to find its trust store). */
function healthcheck(runtime: RuntimeTarget, env: Record<string, string>, args: string[] = []) {
  const { command, args: base } = serverCommand(runtime);
  const result = spawnSync(command, [...base, 'healthcheck', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

for (const runtime of ['node', 'bun', 'deno', 'binary'] as const satisfies readonly RuntimeTarget[]) {
  describe(`${runtime}: hardened-ws healthcheck`, () => {
    let unready: ServerProcess;
    let overTls: ServerProcess;
    const certs = testCerts();

    before(async () => {
      [unready, overTls] = await Promise.all([
        startServer(runtime, { args: ['--redis-url', await closedPortUrl()] }),
        startServer(runtime, { args: ['--tls', '--cert', certs.cert, '--key', certs.key], tls: true }),
      ]);
    });
    after(async () => {
      await Promise.all([unready?.stop(), overTls?.stop()]);
    });

    it('exits 0, silently, for a live server that is not ready (Redis unreachable: /readyz 503)', async () => {
      assert.equal((await request(`${unready.origin}/readyz`)).status, 503);
      const result = healthcheck(runtime, { HOST: '127.0.0.1', PORT: String(unready.port) });
      assert.deepEqual(result, { status: 0, stdout: '', stderr: '' });
      // The container's own environment says HOST=0.0.0.0: the probe goes to loopback.
      assert.equal(healthcheck(runtime, { HOST: '0.0.0.0', PORT: String(unready.port) }).status, 0);
      // Flags win over the environment, as for the server.
      assert.equal(healthcheck(runtime, { PORT: '1' }, ['--port', String(unready.port)]).status, 0);
    });

    it('exits 1 with one line naming the URL when nothing answers, or for a bad option', async () => {
      const port = await freePort();
      const result = healthcheck(runtime, { HOST: '127.0.0.1', PORT: String(port) });
      assert.equal(result.status, 1);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`^hardened-ws healthcheck: GET http://127\\.0\\.0\\.1:${port}/healthz failed: `));
      const bad = healthcheck(runtime, { PORT: 'not-a-port' });
      assert.equal(bad.status, 1, 'a probe never exits 2 (Docker reserves it)');
      assert.match(bad.stderr.trim(), /^hardened-ws healthcheck: invalid option --port: [^\n]+$/);
    });

    it('follows TLS=true to https, verifying the certificate against the trusted CA', () => {
      const trust: Record<string, string> = { [runtime === 'deno' ? 'DENO_CERT' : 'NODE_EXTRA_CA_CERTS']: `${certs.dir}/ca.pem` };
      assert.deepEqual(healthcheck(runtime, { HOST: '127.0.0.1', PORT: String(overTls.port), TLS: 'true', ...trust }), {
        status: 0,
        stdout: '',
        stderr: '',
      });
      // Without the CA the certificate cannot be verified: unhealthy, never silently accepted.
      const untrusted = healthcheck(runtime, { HOST: '127.0.0.1', PORT: String(overTls.port), TLS: 'true' });
      assert.equal(untrusted.status, 1, untrusted.stderr);
      assert.match(untrusted.stderr, new RegExp(`^hardened-ws healthcheck: GET https://127\\.0\\.0\\.1:${overTls.port}/healthz failed: `));
      // Plain http to a TLS port is not mistaken for health either.
      assert.equal(healthcheck(runtime, { HOST: '127.0.0.1', PORT: String(overTls.port) }).status, 1);
    });
  });
}
