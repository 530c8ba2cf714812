/**
 * Sends of one tick leave in one write on Node and Deno (src/runtime/ws-socket-port.ts corks the
 * connection at a tick's first send). What must hold: every reply to a pipelined burst arrives, in
 * order; replies corked before a close in the same tick are written before the close frame; and
 * the same on Bun, which corks natively.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticated, sleep } from '../support/flow.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';

const RUNTIMES: RuntimeTarget[] = ['node', 'deno', 'bun'];

for (const runtime of RUNTIMES) {
  describe(`sends of one tick on ${runtime}`, () => {
    // One server with room for a burst, one whose rate bucket holds 5.
    let roomy: ServerProcess;
    let strict: ServerProcess;
    before(async () => {
      const start = (rate: string) => startServer(runtime, { timeoutMs: 30_000, args: ['--message-rate', rate] });
      [roomy, strict] = await Promise.all([start('1000/s,1000'), start('1/s,5')]);
    });
    after(async () => {
      await Promise.all([roomy?.stop(), strict?.stop()]);
    });

    it('a pipelined burst of 500 echoes: every reply, in order, then the socket keeps working', async () => {
      const s = await authenticated(roomy);
      for (let i = 0; i < 500; i++) s.send({ type: 'echo', id: i, data: 'x'.repeat(i) });
      await s.message(500, 10_000);
      assert.deepEqual(
        s.messages.slice(1).map((m) => m.id),
        Array.from({ length: 500 }, (_, i) => i),
      );
      assert.equal((s.messages[500]!.data as string).length, 499);
      s.send({ type: 'echo', id: 'after', data: 1 });
      assert.equal((await s.message(501)).id, 'after');
      s.raw.close();
    });

    it('replies corked before a close in the same tick: 5 echoes and a 6th over the rate, at once → the 5 replies, then the 4429 close', async () => {
      const s = await authenticated(strict);
      await sleep(1_200); // the bucket full again (5) after the auth frame's token
      for (let i = 0; i < 6; i++) s.send({ type: 'echo', id: i, data: i });
      const closed = await s.closeCode();
      assert.equal(closed.code, 4429);
      assert.deepEqual(
        s.messages.slice(1).map((m) => m.id),
        [0, 1, 2, 3, 4],
      );
    });
  });
}
