/**
 * The library as a user meets it: `npm pack` (its prepack builds dist/ and the SDK), the tarball
 * installed into a fresh project beside hono, ws and TypeScript, examples/ copied in, type-checked
 * with tsc, then each example server started (Node with tsx, Bun) and driven by the example SDK
 * client — and refusing a cross-origin upgrade with 403, the library's default.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endpointOf, sendRequest, upgradeRequest } from '../adversarial/raw.ts';
import { freePort } from '../support/redis-server.ts';
import { projectRoot } from '../support/server-process.ts';

const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as Record<
  'dependencies' | 'devDependencies',
  Record<string, string>
>;
const versions = { ...pkg.dependencies, ...pkg.devDependencies };
/** What a user adds next to hardened-ws, at the versions this project is tested with. */
const userDependencies = ['hono', '@hono/node-server', 'ws', 'tsx', 'typescript', '@types/node', '@types/ws'].map(
  (name) => `${name}@${versions[name]}`,
);
const bunTypes = `@types/bun@${versions.bun}`;
const bun = path.join(projectRoot, 'node_modules/.bin/bun');

describe('the packed package, installed into a fresh project as a user would', () => {
  let dir: string;
  let tarballFiles: string[];

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hws-examples-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: projectRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).replace(/^[^[]*/, ''),
    ) as { filename: string; files: { path: string }[] }[];
    tarballFiles = packed[0]!.files.map((f) => f.path);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${packed[0]!.filename}`, ...userDependencies, bunTypes],
      { cwd: dir, stdio: 'pipe' },
    );
    for (const file of readdirSync(path.join(projectRoot, 'examples')))
      if (file !== 'package.json') cpSync(path.join(projectRoot, 'examples', file), path.join(dir, file));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the tarball holds the build, the SDK and the docs, and no screenshots, tests or source maps', () => {
    for (const file of [
      'dist/lib.js',
      'dist/lib.d.ts',
      'dist/index.js',
      'dist/node.js',
      'dist/redis.js',
      'dist/server-api.js',
      'dist/server-api.d.ts',
      'dist/client/index.d.ts',
      'static/sdk.js',
      'README.md',
    ]) {
      assert.ok(tarballFiles.includes(file), `${file} is in the tarball`);
    }
    const unwanted = tarballFiles.filter((file) => /screenshots|^test\/|^src\/|\.map$|\.png$/.test(file));
    assert.deepEqual(unwanted, []);
  });

  it('the examples type-check (tsc --noEmit, strict)', () => {
    execFileSync(path.join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: dir, stdio: 'pipe' });
  });

  describe('the example backend (backend.ts) with the packaged hardened-ws server', () => {
    const secret = 'example-hook-secret-0123456789abcdef01';
    const key = 'example-api-key-0123456789abcdef012345';
    let backend: ChildProcess;
    let server: ChildProcess;
    let url: string;
    const started = (child: ChildProcess, pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          const match = pattern.exec(output);
          if (match) resolve(match[1] ?? match[0]);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
    before(async () => {
      const [backendPort, serverPort] = [await freePort(), await freePort()];
      url = `http://127.0.0.1:${serverPort}`;
      backend = spawn(path.join(dir, 'node_modules/.bin/tsx'), ['backend.ts'], {
        cwd: dir,
        env: { ...process.env, PORT: String(backendPort), HOOK_SECRET: secret, API_KEY: key, API_URL: url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await started(backend, /backend listening/);
      const hooks = `http://127.0.0.1:${backendPort}/hooks`;
      server = spawn(
        path.join(dir, 'node_modules/.bin/hardened-ws'),
        [
          '--port',
          String(serverPort),
          '--metrics-port',
          'off',
          '--api-key',
          key,
          '--hook-secret',
          secret,
          '--hook-rpc-url',
          `${hooks}/rpc`,
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await started(server, /"msg":"listening"/);
    });
    after(async () => {
      for (const child of [server, backend]) {
        child?.kill('SIGTERM');
        if (child && child.exitCode === null) await once(child, 'exit');
      }
    });

    it('rpc-client.ts: an rpc answered by the backend, and a notification the backend publishes through the server API', () => {
      const out = execFileSync(path.join(dir, 'node_modules/.bin/tsx'), ['rpc-client.ts'], {
        cwd: dir,
        env: { ...process.env, SERVER_URL: url },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.match(out, /rpc echo \{ type: 'rpc', id: \d+, data: \{ hello: 'backend' \} \}/);
      assert.match(out, /rpc notify_me \{ type: 'rpc', id: \d+, data: \{ sent: true \} \}/);
      assert.match(out, /notification \{ title: 'Hello from the backend', text: 'hi' \}/);
    });
  });

  for (const runtime of ['node', 'bun'] as const) {
    describe(`the ${runtime} example server`, () => {
      let server: ChildProcess;
      let url: string;
      before(async () => {
        const [command, args] =
          runtime === 'node' ? [path.join(dir, 'node_modules/.bin/tsx'), ['node-server.ts']] : [bun, ['run', 'bun-server.ts']];
        server = spawn(command, args, { cwd: dir, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
        url = await new Promise<string>((resolve, reject) => {
          let output = '';
          server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
            output += chunk;
            const match = /listening on (http:\/\/\S+)/.exec(output);
            if (match) resolve(match[1]!);
          });
          server.once('exit', (code) => reject(new Error(`example server exited with ${code}: ${output}`)));
        });
      });
      after(async () => {
        server.kill('SIGTERM');
        if (server.exitCode === null) await once(server, 'exit');
      });

      it('answers the SDK example client: echo, its own handler, and a publish delivered to a subscriber', () => {
        const out = execFileSync(path.join(dir, 'node_modules/.bin/tsx'), ['client.ts'], {
          cwd: dir,
          env: { ...process.env, SERVER_URL: url },
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.match(out, /echo \{ type: 'echo', id: \d+, data: 'hi' \}/);
        assert.match(out, /whoami \{ type: 'whoami', id: \d+, sub: 'alice' \}/);
        assert.match(out, /message \{ from: 'alice', data: \{ text: 'hello' \} \}/);
      });

      it('refuses a cross-origin upgrade with 403 and admits a same-origin one, by default', async () => {
        const statusFor = async (origin: string) => {
          const { conn, outcome } = await sendRequest(endpointOf(url), upgradeRequest({ host: new URL(url).host, origin }));
          conn.destroy();
          return outcome.kind === 'response' ? outcome.status : outcome.kind;
        };
        assert.equal(await statusFor('https://evil.example'), 403);
        assert.equal(await statusFor(url), 101);
      });
    });
  }
});
