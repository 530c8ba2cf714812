/**
 * The SDK in Node against the real server on Node, Bun and Deno: connect, echo via request(),
 * then the server restarts on the same port and the client comes back by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { nodeClient, restartOnSamePort, waitForState } from './real-server.ts';
import type { Client } from '../../src/client/index.ts';

const serverOptions = { args: ['--demo-users', 'demo:demo', '--ticket-rate', '100/s,1000', '--login-rate', '100/s,1000'] };

for (const runtime of ['node', 'bun', 'deno'] as const satisfies readonly RuntimeTarget[]) {
  describe(`SDK against the ${runtime} server`, () => {
    let server: ServerProcess;
    let client: Client;
    before(async () => {
      server = await startServer(runtime, serverOptions);
    });
    after(async () => {
      client?.close();
      await server?.stop();
    });

    it('connects, authenticates and echoes via request()', async () => {
      client = nodeClient(() => server);
      await waitForState(client, 'open');
      assert.equal(client.sub, 'demo');
      assert.ok(client.exp! * 1000 > Date.now());
      const reply = await client.request({ type: 'echo', data: { text: 'héllo' } });
      assert.deepEqual(reply.data, { text: 'héllo' });
      assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    });

    it('reconnects by itself after the server restarts on the same port, and works again', async () => {
      const closes: { code: number; hint?: number; planned: number | null }[] = [];
      client.on('close', (c) => closes.push({ code: c.code, hint: c.retryAfterMs, planned: c.reconnectInMs }));
      const states: string[] = [];
      client.on('state', (e) => states.push(e.state));
      server = await restartOnSamePort(runtime, server, serverOptions);
      await waitForState(client, 'open', 30_000);
      assert.equal(closes[0]?.code, 1001, 'the shutdown closed the socket with 1001');
      assert.ok(typeof closes[0]?.hint === 'number' && closes[0].hint <= 5_000, 'with a retry-after-ms hint');
      assert.equal(closes[0]?.planned, closes[0]?.hint, 'which the client took as its next delay');
      assert.ok(states.includes('reconnecting') && states.at(-1) === 'open');
      const reply = await client.request({ type: 'echo', data: 'again' });
      assert.equal(reply.data, 'again');
      client.close();
      assert.equal(client.state, 'closed');
    });
  });
}
