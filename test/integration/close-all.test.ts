/**
 * gateway.closeAll() (the drain) closes what it accepted with 1001 and a retry hint, never a bare
 * 1006: also a socket whose upgrade was under way when the drain began, which opens after the call.
 * The library has no drain gate of its own, so here that socket does open.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocketServer } from 'ws';
import { createGateway, type Gateway } from '../../src/lib.ts';
import { TestSocket } from '../support/ws-client.ts';

describe('gateway.closeAll and a socket that opens during it', () => {
  let server: ServerType;
  let gateway: Gateway;
  let port: number;

  before(async () => {
    gateway = createGateway({ verifier: { verify: async () => ({ kind: 'rejected', reason: 'unused' }) }, upgradeWebSocket });
    const app = new Hono();
    app.route('/', gateway.app);
    const wss = new WebSocketServer({ noServer: true });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket: { server: wss } }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('closes the late socket at once with 1001 and its own retry-after-ms hint', async () => {
    // A peer that never answers the close keeps closeAll waiting for its timeout.
    const stubborn = net.connect(port, '127.0.0.1');
    stubborn.on('error', () => {});
    await once(stubborn, 'connect');
    stubborn.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await once(stubborn, 'data');
    stubborn.pause();
    while (gateway.connectionCount() < 1) await new Promise((resolve) => setTimeout(resolve, 5));

    const drained = gateway.closeAll({ timeoutMs: 4_000, reconnectJitterMs: 2_000 });
    const late = new TestSocket(`ws://127.0.0.1:${port}/ws`);
    await late.opened;
    const closed = await late.closeCode(3_000); // before the drain's timeout would terminate it (1006)
    assert.equal(closed.code, 1001);
    assert.match(closed.reason, /^server going away; retry-after-ms=\d+$/);
    stubborn.destroy();
    await drained;
  });
});
