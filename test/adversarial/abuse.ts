/**
 * Cases 5, 6, 8 and 10 on the shared server: 200 sockets that never authenticate, 1,000 concurrent
 * bad auths beside an echoing good client, a message flood, and size/type violations.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { authenticated, connect, sleep } from '../support/flow.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  attackerTicket,
  AUTH_DEADLINE_MS,
  CASE,
  EchoLoop,
  histogram,
  MAX_MESSAGE,
  note,
  percentile,
  stillServes,
  summary,
  type Run,
} from './context.ts';

const attacker = (run: Run) => authenticated(run.target, run.attackerCookie);

async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

export function abuseCases(run: Run): void {
  describe('5. sockets that never authenticate', () => {
    it('200 sockets, no auth frame: all closed 4408 after the deadline; a good client is unaffected', CASE, async (t: TestContext) => {
      const loop = new EchoLoop(run.target, run.goodCookie, 100);
      await loop.start();
      // Measured from creation: the server's deadline cannot start before the request was sent, and
      // under load the client learns of 200 opens well after the server armed its timers.
      const created = Date.now();
      const sockets = Array.from({ length: 200 }, () => connect(run.target));
      const opened = await Promise.allSettled(sockets.map((s) => s.opened.then(() => created)));
      const refused = opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason?.message ?? o));
      const results = await Promise.all(
        sockets.map(async (s, i) => {
          const o = opened[i]!;
          if (o.status === 'rejected') return { code: -1, afterMs: 0 };
          const closed = await s.closeCode(AUTH_DEADLINE_MS + 5_000).catch(() => ({ code: 0, reason: 'timeout' }));
          return { code: closed.code, afterMs: (s.closedAt ?? Date.now()) - o.value };
        }),
      );
      const good = await loop.stop();
      const times = results.filter((r) => r.code === 4408).map((r) => r.afterMs);
      note(
        t,
        run,
        '200 unauthenticated',
        `codes: ${histogram(results.map((r) => r.code))}; closed ${Math.min(...times)}–${Math.max(...times)} ms after the upgrade requests` +
          `${refused.length ? `; upgrades refused: ${histogram(refused)}` : ''}; good client ${summary(good.rtts)}`,
      );
      assert.deepEqual(refused, [], 'all 200 upgrades accepted (per-IP cap 400, burst 400)');
      assert.ok(
        results.every((r) => r.code === 4408),
        `all closed 4408: ${histogram(results.map((r) => r.code))}`,
      );
      assert.ok(
        times.every((ms) => ms >= AUTH_DEADLINE_MS - 150),
        'not before the deadline',
      );
      assert.deepEqual(good.failures, []);
      assert.equal(good.closedEarly, undefined, 'the good client was not disconnected');
      await stillServes(t, run);
    });
  });

  describe('6. 1,000 concurrent bad auths', () => {
    it(
      'forged tickets in batches of 100 while a good client echoes: it is never disconnected; its p99 is reported',
      CASE,
      async (t: TestContext) => {
        await sleep(1_500); // let the upgrade bucket refill after case 5
        const loop = new EchoLoop(run.target, run.goodCookie, 60);
        await loop.start();
        const codes: (number | string)[] = [];
        const started = Date.now();
        for (let batch = 0; batch < 10; batch++) {
          const batchStarted = Date.now();
          const results = await Promise.all(
            Array.from({ length: 100 }, async () => {
              const s: TestSocket = connect(run.target);
              try {
                await s.opened;
              } catch (error) {
                return `refused ${String((error as Error).message).replace('upgrade refused: ', '')}`;
              }
              s.send({ type: 'auth', ticket: randomBytes(32).toString('base64url') });
              return (await s.closeCode(8_000).catch(() => ({ code: 'timeout' }))).code;
            }),
          );
          codes.push(...results);
          // Stay under the configured upgrade rate (200/s): at least 600 ms per batch of 100.
          await sleep(Math.max(0, 600 - (Date.now() - batchStarted)));
        }
        const elapsed = Date.now() - started;
        const good = await loop.stop();
        const p99 = percentile(good.rtts, 99);
        note(t, run, '1,000 bad auths', `codes: ${histogram(codes)} in ${elapsed} ms; good client ${summary(good.rtts)}`);
        console.log(`[${run.runtime}] good client round trip under 1,000 bad auths: ${summary(good.rtts)}`);
        assert.deepEqual(good.failures, [], 'the good client kept echoing');
        assert.equal(good.closedEarly, undefined, 'the good client was never disconnected');
        assert.ok(good.rtts.length >= 10, 'the good client made progress');
        assert.ok(p99 < 2_000, `sanity cap: p99 ${p99.toFixed(1)} ms < 2 s`);
        assert.ok(
          codes.every((c) => c === 4401),
          `every forged ticket closed 4401: ${histogram(codes)}`,
        );
        await stillServes(t, run);
      },
    );
  });

  describe('8. message flood after auth', () => {
    it('2,000 echo messages as fast as possible → 4429; a good client is unaffected', CASE, async (t: TestContext) => {
      const good = await authenticated(run.target, run.goodCookie);
      const flooder = await attacker(run);
      const rateHits = () => run.server.logs().filter((l) => l.msg === 'limit.hit' && l.limit === 'message_rate').length;
      const hitsBefore = rateHits();
      for (let i = 0; i < 2_000; i++) flooder.send({ type: 'echo', id: i, data: 'flood' });
      const closed = await flooder.closeCode(10_000).catch(() => ({ code: null, reason: 'still open after 10 s' }));
      const replies = flooder.messages.length - 1;
      // The server's log reaches us through a pipe: give it a moment.
      const gatewayDecided = await waitUntil(() => rateHits() > hitsBefore, 2_000);
      note(
        t,
        run,
        'message flood',
        `${closed.code} "${closed.reason}" after ${replies} echo replies; server log limit.hit message_rate: ${gatewayDecided ? 'yes' : 'no'}`,
      );
      good.send({ type: 'echo', id: 'g', data: 'unaffected' });
      assert.deepEqual(await good.message(1), { type: 'echo', id: 'g', data: 'unaffected' });
      good.close();
      assert.deepEqual(closed, { code: 4429, reason: 'message rate exceeded' });
      await stillServes(t, run);
    });
  });

  describe('10. size and type violations', () => {
    it('oversize message after auth → 1009', CASE, async (t: TestContext) => {
      const socket = await attacker(run);
      socket.send({ type: 'echo', id: 1, data: 'x'.repeat(MAX_MESSAGE + 1_024) });
      const closed = await socket.closeCode();
      note(t, run, 'oversize after auth', `${closed.code} "${closed.reason}"`);
      assert.equal(closed.code, 1009);
      await stillServes(t, run);
    });

    it('binary first frame → 1008', CASE, async (t: TestContext) => {
      const socket = connect(run.target);
      await socket.opened;
      socket.raw.send(Buffer.from(JSON.stringify({ type: 'auth', ticket: await attackerTicket(run) })));
      const closed = await socket.closeCode();
      note(t, run, 'binary first frame', `${closed.code} "${closed.reason}"`);
      assert.equal(closed.code, 1008);
      await stillServes(t, run);
    });

    it('auth frame over 4 KiB → 1009', CASE, async (t: TestContext) => {
      const socket = connect(run.target);
      await socket.opened;
      socket.send({ type: 'auth', ticket: 'A'.repeat(4 * 1024 + 1) });
      const closed = await socket.closeCode();
      note(t, run, 'auth frame > 4 KiB', `${closed.code} "${closed.reason}"`);
      assert.equal(closed.code, 1009);
      assert.deepEqual(socket.messages, []);
      await stillServes(t, run);
    });
  });
}
