/**
 * The library face: a user's own Hono app mounts createGateway with its own verifier and handlers.
 * A handler spy and a verifier the test releases by hand show exactly when dispatch happens.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocketServer } from 'ws';
import { createGateway, type Handler, type Verifier, type VerifyResult } from '../../src/lib.ts';
import { sleep } from '../support/flow.ts';
import { TestSocket } from '../support/ws-client.ts';

/** A verifier whose answers the test hands out one by one. */
class ManualVerifier implements Verifier {
  readonly pending: ((result: VerifyResult) => void)[] = [];
  verify(): Promise<VerifyResult> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
  async next(): Promise<(result: VerifyResult) => void> {
    while (this.pending.length === 0) await sleep(5);
    return this.pending.shift()!;
  }
}

const ok: VerifyResult = { kind: 'ok', identity: { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600, claims: { plan: 'pro' } } };

describe('createGateway mounted in a user app', () => {
  const verifier = new ManualVerifier();
  const dispatched: unknown[] = [];
  const spy: Handler = (message, ctx) => {
    dispatched.push(message.id);
    ctx.send({ type: 'spy', id: message.id, sub: ctx.identity.sub, plan: ctx.identity.claims.plan });
  };
  let server: ServerType;
  let url: string;

  before(async () => {
    const app = new Hono();
    app.get('/', (c) => c.text('user app'));
    const gateway = createGateway({ verifier, upgradeWebSocket, handlers: { spy }, path: '/realtime' });
    app.route('/', gateway.app);
    const wss = new WebSocketServer({ noServer: true });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket: { server: wss } }, () => resolve(s));
    });
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/realtime`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    dispatched.length = 0;
  });

  it('holds pipelined messages until verification succeeds, then dispatches them in order after auth.ok', async () => {
    const socket = new TestSocket(url);
    await socket.opened;
    socket.send({ type: 'auth', ticket: 'ticket-for-alice-000000' });
    for (const id of [1, 2, 3]) socket.send({ type: 'spy', id });
    const release = await verifier.next();
    await sleep(100);
    assert.deepEqual(dispatched, [], 'nothing dispatched while verifying');
    assert.equal(socket.messages.length, 0, 'nothing sent before auth.ok');
    release(ok);
    await socket.message(3);
    assert.deepEqual(dispatched, [1, 2, 3]);
    assert.deepEqual(
      socket.messages.map((m) => m.type),
      ['auth.ok', 'spy', 'spy', 'spy'],
    );
    assert.deepEqual(socket.messages[1], { type: 'spy', id: 1, sub: 'alice', plan: 'pro' });
    socket.close();
  });

  it('never dispatches messages queued behind a rejected or unavailable verification', async () => {
    for (const [result, code] of [
      [{ kind: 'rejected', reason: 'unknown_ticket' }, 4401],
      [{ kind: 'unavailable', reason: 'down' }, 1013],
    ] as const) {
      const socket = new TestSocket(url);
      await socket.opened;
      socket.send({ type: 'auth', ticket: 'ticket-for-mallory-0000' });
      socket.send({ type: 'spy', id: 'sneaky' });
      (await verifier.next())(result);
      assert.equal((await socket.closeCode()).code, code);
      await sleep(50);
      assert.deepEqual(dispatched, []);
      assert.deepEqual(socket.messages, []);
    }
  });

  it('closes 1008 when too many frames queue up during verification, and dispatches none', async () => {
    const socket = new TestSocket(url);
    await socket.opened;
    socket.send({ type: 'auth', ticket: 'ticket-for-flooder-000' });
    for (let i = 0; i < 40; i++) socket.send({ type: 'spy', id: i });
    const release = await verifier.next();
    assert.equal((await socket.closeCode()).code, 1008);
    release(ok);
    await sleep(50);
    assert.deepEqual(dispatched, []);
  });

  it('leaves the rest of the user app alone', async () => {
    const port = new URL(url).port;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'user app');
  });
});
