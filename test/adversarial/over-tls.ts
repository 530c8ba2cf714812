/**
 * Case 11: a few of the attacks again over TLS (wss://), where the runtime's HTTP and WebSocket
 * layers take another path (node:https on Node and Deno, Bun's TLS listener), and which TLS versions and suites each accepts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { testCerts } from '../support/certs.ts';
import { login, ticket, type Target } from '../support/flow.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { adversarialArgs, ATTACKER, CASE, note, stillServes, type Run } from './context.ts';
import {
  describeClose,
  describeOutcome,
  endpointOf,
  openAuthenticatedRaw,
  openRawWebSocket,
  sendRequest,
  textFrame,
  tlsHandshake,
  upgradeRequest,
  type Endpoint,
} from './raw.ts';

export function tlsCases(run: Run): void {
  describe('11. over TLS (wss://)', () => {
    let server: ServerProcess | undefined;
    let target: Target;
    let endpoint: Endpoint;
    before(async () => {
      const certs = testCerts();
      server = await startServer(run.runtime, { args: [...adversarialArgs, '--tls', '--cert', certs.cert, '--key', certs.key], tls: true });
      target = { origin: server.origin, wsUrl: server.wsUrl, ca: certs.caPem };
      endpoint = endpointOf(server.origin, certs.caPem);
    });
    after(async () => {
      await server?.stop();
    });

    // The test certificate is ECDSA, so RSA key exchange could not be negotiated anyway: not probed.
    it('TLS 1.0/1.1 and CBC suites refused; TLS 1.2 ECDHE + AEAD and TLS 1.3 accepted', CASE, async (t: TestContext) => {
      // `legacy`: the client must be allowed to offer the old protocols at all (OpenSSL 3 refuses
      // them at its default security level; the audit host then adds @SECLEVEL=0).
      const results = {
        'TLS 1.0': await tlsHandshake(endpoint, { legacy: true, minVersion: 'TLSv1', maxVersion: 'TLSv1' }),
        'TLS 1.1': await tlsHandshake(endpoint, { legacy: true, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }),
        'TLS 1.2 ECDHE CBC': await tlsHandshake(endpoint, {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-SHA256',
        }),
        'TLS 1.2 ECDHE AEAD': await tlsHandshake(endpoint, {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256',
        }),
        'TLS 1.3': await tlsHandshake(endpoint, { minVersion: 'TLSv1.3' }),
      };
      note(
        t,
        run,
        'tls: protocols and suites',
        Object.entries(results)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; '),
      );
      for (const refused of ['TLS 1.0', 'TLS 1.1', 'TLS 1.2 ECDHE CBC'] as const)
        assert.match(results[refused], /^refused/, `${refused}: ${results[refused]}`);
      assert.match(results['TLS 1.2 ECDHE AEAD'], /^TLSv1\.2 ECDHE-(ECDSA|RSA)-AES128-GCM-SHA256$/);
      assert.match(results['TLS 1.3'], /^TLSv1\.3 TLS_/);
    });

    it('Origin http://evil.com → 403; own https origin → 101', CASE, async (t: TestContext) => {
      const host = `127.0.0.1:${server!.port}`;
      const evil = await sendRequest(endpoint, upgradeRequest({ host, origin: 'http://evil.com' }));
      evil.conn.destroy();
      const self = await sendRequest(endpoint, upgradeRequest({ host, origin: `https://${host}` }));
      self.conn.destroy();
      note(t, run, 'tls: origin evil / self', `${describeOutcome(evil.outcome)} / ${describeOutcome(self.outcome)}`);
      assert.equal(evil.outcome.kind === 'response' ? evil.outcome.status : describeOutcome(evil.outcome), 403);
      assert.equal(self.outcome.kind === 'response' ? self.outcome.status : describeOutcome(self.outcome), 101);
      await stillServes(t, run, server!, target);
    });

    it('unmasked frame before auth and invalid UTF-8 after auth → 1002 / 1007', CASE, async (t: TestContext) => {
      const pre = await openRawWebSocket(endpoint);
      await pre.sendRaw(textFrame('{"type":"ping"}', { mask: false }));
      const preClosed = await pre.closeResult(4_000);
      pre.destroy();
      const tk = await ticket(target, await login(target, ATTACKER.username, ATTACKER.password));
      const post = await openAuthenticatedRaw(endpoint, tk);
      await post.sendRaw(textFrame(Uint8Array.from([0x7b, 0xff, 0x7d])));
      const postClosed = await post.closeResult(4_000);
      post.destroy();
      note(t, run, 'tls: unmasked / invalid UTF-8', `${describeClose(preClosed)} / ${describeClose(postClosed)}`);
      assert.equal(preClosed.code, 1002, `unmasked: ${describeClose(preClosed)}`);
      assert.equal(postClosed.code, 1007, `invalid UTF-8: ${describeClose(postClosed)}`);
      await stillServes(t, run, server!, target);
    });
  });
}
