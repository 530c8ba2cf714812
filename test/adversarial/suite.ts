/**
 * The adversarial suite: raw-socket attacks against the server on
 * one runtime, each asserting the defined answer and then that a well-behaved client on the same
 * server still authenticates and echoes. Loopback only, bounded in count and time.
 *
 * Observations (what each runtime actually answered) are printed as test diagnostics; set
 * ADVERSARIAL_OBSERVATIONS=<file> to also collect them as JSON lines.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import { login } from '../support/flow.ts';
import { startServer, type RuntimeTarget } from '../support/server-process.ts';
import { abuseCases } from './abuse.ts';
import { boundsCases, HEADER_DEADLINE_MS, slowHeaderClients } from './bounds.ts';
import { clientIpCases } from './client-ip.ts';
import { adversarialArgs, assertAlive, ATTACKER, endpointOf, note, targetOf, type Run } from './context.ts';
import { frameCases } from './frames.ts';
import { handshakeCases } from './handshakes.ts';
import { resilienceCases } from './resilience.ts';
import { slowReaderCases } from './slow-readers.ts';
import { tlsCases } from './over-tls.ts';
import { treeRssKb } from './raw.ts';

export function adversarialSuite(runtime: RuntimeTarget): void {
  describe(`${runtime}: adversarial`, () => {
    const run = { runtime } as Run;
    const slowClients = slowHeaderClients(run);
    let startRssKb = 0;
    before(async () => {
      run.server = await startServer(runtime, { args: adversarialArgs });
      run.target = targetOf(run.server);
      run.endpoint = endpointOf(run.server.origin);
      run.goodCookie = await login(run.target);
      run.attackerCookie = await login(run.target, ATTACKER.username, ATTACKER.password);
      startRssKb = treeRssKb(run.server.child.pid!);
      await slowClients.start();
    });
    after(async () => {
      slowClients.stop();
      await run.server?.stop();
    });

    handshakeCases(run);
    frameCases(run);
    boundsCases(run);
    abuseCases(run);
    resilienceCases(run);
    slowReaderCases(run);
    clientIpCases(run);
    tlsCases(run);

    // Started in before(): the header deadline ran out while the other cases ran.
    it(
      `slowloris: 20 connections whose headers never complete (a line a second) are all closed within ${HEADER_DEADLINE_MS / 1000} s`,
      { timeout: HEADER_DEADLINE_MS + 5_000 },
      (t: TestContext) => slowClients.wait(t),
    );

    it('survived everything: still running, no internal errors logged', (t: TestContext) => {
      assertAlive(run.server);
      const errors = run.server.logs().filter((l) => Number(l.level) >= 50 || l.msg === 'ws.internal_error' || l.msg === 'http.error');
      const rssMb = Math.round((treeRssKb(run.server.child.pid!) - startRssKb) / 102.4) / 10;
      note(
        t,
        run,
        'end of run',
        `RSS ${rssMb >= 0 ? '+' : ''}${rssMb} MB since start; error log lines: ${errors.length}${errors.length ? ` (${[...new Set(errors.map((e) => e.msg))].join(', ')})` : ''}`,
      );
    });
  });
}
