/**
 * Each `platform.listen` call keeps its own limits (Deno's adapter once kept the heartbeat in
 * module state, so the last listener's settings applied to every listener, and it had no message
 * size limit at all). Two listeners with different limits in one process, on Node and Deno.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../support/server-process.ts';
import { describeClose, endpointOf, openRawWebSocket, text as utf8Text, textFrame } from '../adversarial/raw.ts';

const fixture = path.join(projectRoot, 'test/fixtures/two-listeners.ts');
const commands = {
  node: [process.execPath, '--import', 'tsx', fixture],
  deno: [
    path.join(projectRoot, 'node_modules/.bin/deno'),
    'run',
    '--allow-net',
    '--allow-read',
    '--allow-env',
    '--allow-sys=hostname',
    fixture,
  ],
} as const;

for (const runtime of ['node', 'deno'] as const) {
  describe(`${runtime}: two listeners keep their own limits`, () => {
    let child: ChildProcess;
    let ports: { a: number; b: number };
    before(async () => {
      const [command, ...args] = commands[runtime];
      child = spawn(command!, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      ports = await new Promise((resolve, reject) => {
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          const line = output.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line) as { a: number; b: number });
        });
        child.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${output}`)));
      });
    });
    after(async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    });

    const endpoint = (port: number) => endpointOf(`http://127.0.0.1:${port}`);

    it('a 4 KiB message: echoed by A (64 KiB limit), closed 1009 by B (1 KiB limit)', async () => {
      const text = 'x'.repeat(4 * 1024);
      const onA = await openRawWebSocket(endpoint(ports.a));
      await onA.sendRaw(textFrame(text));
      const echoed = await onA.conn.until(() => onA.frames[0], 3_000);
      assert.equal(echoed && utf8Text(echoed.payload), text);
      onA.destroy();
      const onB = await openRawWebSocket(endpoint(ports.b));
      await onB.sendRaw(textFrame(text));
      const closed = await onB.closeResult(3_000);
      onB.destroy();
      assert.equal(closed.code, 1009, describeClose(closed));
    });

    it('a peer that never answers pings: dropped by A (300 + 300 ms) within 3 s, still open on B (60 s) after 3 s', async () => {
      const [onA, onB] = await Promise.all([openRawWebSocket(endpoint(ports.a)), openRawWebSocket(endpoint(ports.b))]);
      onA.autoPong = false;
      onB.autoPong = false;
      const [closedA, closedB] = await Promise.all([onA.closeResult(3_000), onB.closeResult(3_000)]);
      onA.destroy();
      onB.destroy();
      assert.notEqual(closedA.code, null, `A: ${describeClose(closedA)}`);
      assert.equal(closedB.code, null, `B: ${describeClose(closedB)}`);
    });
  });
}
