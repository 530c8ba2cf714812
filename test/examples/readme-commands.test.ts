/**
 * The commands the README and the design card give, run exactly as written from a fresh copy of the
 * repository's tracked files (no dist/, no build/): `npm start` (its prestart builds), then
 * `node dist/index.js`, `bun run src/index.ts`, the Deno command, `npm run start:bun` and
 * `npm run start:deno`. Each must serve the demo page on the embedded default
 * (http://127.0.0.1:8080), log in, issue a ticket, authenticate a socket and echo, and exit 0 on
 * SIGTERM (npm's children: the process group, as a terminal's Ctrl-C would). node_modules is linked from the project (CI's `npm ci` made it; installing again here
 * would test npm, not us).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authenticated } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { projectRoot, startCommand } from '../support/server-process.ts';

const DEFAULT_ORIGIN = 'http://127.0.0.1:8080';
let copy: string;

before(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'hws-readme-'));
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: projectRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    const from = path.join(projectRoot, file);
    if (!existsSync(from)) continue; // deleted in the working tree, not yet committed
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    cpSync(from, path.join(copy, file));
  }
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  assert.equal(existsSync(path.join(copy, 'dist')), false, 'the copy starts without a build');
});

after(() => rmSync(copy, { recursive: true, force: true }));

/** PATH with the project's node_modules/.bin first, as npm scripts have it (bun and deno come from npm). */
const withBins = () => ({ PATH: `${path.join(copy, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}` });

const COMMANDS: [label: string, command: string, args: string[], env?: () => Record<string, string>][] = [
  ['npm start', 'npm', ['start']],
  ['node dist/index.js', 'node', ['dist/index.js']],
  ['bun run src/index.ts', 'bun', ['run', 'src/index.ts'], withBins],
  [
    'deno run --allow-net --allow-read --allow-env --allow-sys=hostname src/index.ts',
    'deno',
    ['run', '--allow-net', '--allow-read', '--allow-env', '--allow-sys=hostname', 'src/index.ts'],
    withBins,
  ],
  ['npm run start:bun', 'npm', ['run', 'start:bun']],
  ['npm run start:deno', 'npm', ['run', 'start:deno']],
];

describe('the README commands, exactly as written, from a fresh copy', () => {
  for (const [label, command, args, env] of COMMANDS) {
    it(`${label}: serves the demo on ${DEFAULT_ORIGIN}, authenticates a socket, shuts down cleanly on SIGTERM`, async () => {
      // No port from the test: the embedded default is what is under test.
      const viaNpm = command === 'npm';
      const server = await startCommand(label, command, args, { cwd: copy, env: env?.(), timeoutMs: 120_000, processGroup: viaNpm });
      try {
        assert.equal(server.origin, DEFAULT_ORIGIN, `${label} listens on the README's address`);
        const page = await request(`${DEFAULT_ORIGIN}/client.html`);
        assert.equal(page.status, 200);
        assert.match(page.body, /<html/i);
        const socket = await authenticated({ origin: DEFAULT_ORIGIN, wsUrl: 'ws://127.0.0.1:8080/ws' });
        socket.send({ type: 'echo', id: 1, data: 'hello' });
        const reply = await socket.message(1); // 0 was auth.ok
        assert.deepEqual(reply, { type: 'echo', id: 1, data: 'hello' });
        socket.close();
      } finally {
        const code = await server.stop();
        // npm ends by the signal itself once its script has exited; the server's own word is its log.
        if (!viaNpm) assert.equal(code, 0, `${label} exits 0 on SIGTERM:\n${server.output().slice(-2000)}`);
        assert.ok(
          server.logs().some((line) => line.msg === 'shutdown.done'),
          `${label} shuts down cleanly on SIGTERM:\n${server.output().slice(-2000)}`,
        );
      }
    });
  }
});
