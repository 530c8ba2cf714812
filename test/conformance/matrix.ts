/** One runtime's full check: the conformance suite plain and over TLS, external auth, metrics and readiness, shutdown, config errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
        for (const secret of [...issuedSecrets, 'eve-password', ADMIN_TOKEN])
          assert.ok(!output.includes(secret), 'a secret reached the log');
        assert.match(output, /"msg":"login.ok"/, 'the log was captured');
      });

      it('on SIGTERM closes sockets with 1001 and exits 0', async () => {
        const socket = await authenticated({ origin: server.origin, wsUrl: server.wsUrl, ca });
        const code = server.stop('SIGTERM');
        assert.equal((await socket.closeCode()).code, 1001);
        assert.equal(await code, 0);
        const shutdown = server.logs().filter((line) => typeof line.msg === 'string' && line.msg.startsWith('shutdown.'));
        assert.deepEqual(
          shutdown.map((line) => line.msg),
          ['shutdown.start', 'shutdown.done'],
          `one start, then one done; the server wrote:\n${server.output().slice(-3000)}`,
        );
      });
    });
  }

  externalAuthSuite(runtime);
  metricsSuite(runtime);

  describe(`${runtime}: configuration errors`, () => {
    /** Runs the command with `argv`; asserts exit 2 and ONE line on stderr matching `expected`, and returns it. */
    const assertCliError = (argv: readonly string[], expected: RegExp, env: Record<string, string> = {}) => {
      const { command, args } = serverCommand(runtime);
      const result = spawnSync(command, [...args, ...argv], {
        cwd: projectRoot,
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, ...env },
      });
      assert.equal(result.status, 2, `${argv.join(' ')}: ${result.stderr}`);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, expected);
      return lines[0]!;
    };

    it('exits 2 with one line naming the bad option', () => {
      assertCliError(['--port', 'not-a-port'], /--port/);
      assertCliError(['--port', '70000'], /--port/);
      assertCliError(['--demo-users', 'demo'], /--demo-users: entry 1 is not in user:password form/);
      assertCliError(['-p', '80'], /unknown option "-p" \(did you mean --port\?\)/);
    });

    it('a port in use: exit 2 and one line naming the option and the port, for the main and the metrics listener', async () => {
      const taken = net.createServer().listen(0, '127.0.0.1');
      await once(taken, 'listening');
      const port = (taken.address() as net.AddressInfo).port;
      try {
        assertCliError(['--port', String(port)], new RegExp(`--port: 127\\.0\\.0\\.1:${port} is already in use`));
        assertCliError(['--metrics-port', String(port)], new RegExp(`--metrics-port: 127\\.0\\.0\\.1:${port} is already in use`));
      } finally {
        taken.close();
      }
    });

    it('a config file: its port is used (flag > env > file); a bad file exits 2 with one line naming the file and key, no secret', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'hws-config-'));
      const file = (name: string, content: string) => {
        const where = path.join(dir, name);
        writeFileSync(where, content);
        return where;
      };
      const taken = await Promise.all(
        [0, 1, 2].map(async () => {
          const server = net.createServer().listen(0, '127.0.0.1');
          await once(server, 'listening');
          return server;
        }),
      );
      const [inFile, inEnv, inFlag] = taken.map((server) => (server.address() as net.AddressInfo).port);
      try {
        const config = file('hws.json', JSON.stringify({ port: inFile, 'metrics-port': 'off' }));
        assertCliError(['--config', config], new RegExp(`--port: 127\\.0\\.0\\.1:${inFile} is already in use`));
        assertCliError([], new RegExp(`--port: 127\\.0\\.0\\.1:${inFile} is already in use`), { CONFIG: config });
        assertCliError(['--config', config], new RegExp(`:${inEnv} is already in use`), { PORT: String(inEnv) });
        assertCliError(['--config', config, '--port', String(inFlag)], new RegExp(`:${inFlag} is already in use`), { PORT: String(inEnv) });
        const bad = file('bad.json', '{"port": "not-a-port"}');
        assertCliError(
          ['--config', bad],
          new RegExp(`^hardened-ws: invalid config file ${bad.replace(/[.\\/]/g, '\\$&')}: "port": expected a port number`),
        );
        assertCliError(
          ['--config', file('ns.json', '{"namespaces": {"chat": {"recovery": true}}}')],
          /"namespaces\.chat\.recovery": needs history-size > 0/,
        );
        const secret = 's3cr3t-pass-xyz';
        for (const text of [`{"redis-url": "redis://:${secret}@h:1" x}`, `{"admin-token": "${secret}"}`]) {
          const line = assertCliError(['--config', file('secret.json', text)], /invalid config file .*secret\.json: /);
          assert.ok(!line.includes(secret), line);
        }
        assertCliError(['--config', path.join(dir, 'missing.json')], /invalid option --config: cannot read/);
      } finally {
        for (const server of taken) server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('prints --help listing every option', () => {
      const { command, args } = serverCommand(runtime);
      const result = spawnSync(command, [...args, '--help'], { cwd: projectRoot, encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 0);
      for (const flag of ['--port', '--host', '--tls', '--auth-verify-url', '--ticket-ttl', '--auth-timeout'])
        assert.match(result.stdout, new RegExp(flag));
    });
  });
}
