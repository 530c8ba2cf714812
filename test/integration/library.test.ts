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

describe('createGateway with channels', () => {
  let server: ServerType;
  let url: string;
  const claims = { subscribe: ['chat:*', 'news:*'], publish: ['chat:*', 'news:*'] };
  const verifier: Verifier = {
    verify: async ({ ticket }) => ({ kind: 'ok', identity: { sub: ticket.slice(0, 5), exp: Math.floor(Date.now() / 1000) + 600, claims } }),
  };

  before(async () => {
    const app = new Hono();
    // Only `chat` keeps history; the library's default table is empty.
    const gateway = createGateway({
      verifier,
      upgradeWebSocket,
      admission: false,
      channels: { namespaces: { chat: { historySize: 10, recovery: true } } },
    });
    app.route('/', gateway.app);
    const wss = new WebSocketServer({ noServer: true });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket: { server: wss } }, () => resolve(s));
    });
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function client(name: string): Promise<TestSocket> {
    const socket = new TestSocket(url);
    await socket.opened;
    socket.send({ type: 'auth', ticket: `${name}-ticket-0000000000000` });
    assert.equal((await socket.message(0)).type, 'auth.ok');
    return socket;
  }

  it('adds the channel messages to the built-ins: positions in a namespace with history, none elsewhere; recovery with since', async () => {
    const alice = await client('alice');
    const bobby = await client('bobby');
    alice.send({ type: 'subscribe', id: 1, channel: 'chat:lib' });
    const subscribed = await alice.message(1);
    assert.deepEqual([subscribed.type, subscribed.offset], ['ok', 0]);
    bobby.send({ type: 'publish', id: 2, channel: 'chat:lib', data: 'one' });
    assert.deepEqual(await bobby.message(1), { type: 'ok', id: 2, offset: 1, epoch: subscribed.epoch });
    assert.deepEqual(await alice.message(2), {
      type: 'message',
      channel: 'chat:lib',
      data: 'one',
      from: 'bobby',
      offset: 1,
      epoch: subscribed.epoch,
    });
    bobby.send({ type: 'publish', id: 3, channel: 'news:lib', data: 'live only' });
    assert.deepEqual(await bobby.message(2), { type: 'ok', id: 3 });
    bobby.send({ type: 'echo', id: 4, data: 'still here' });
    assert.equal((await bobby.message(3)).type, 'echo');
    bobby.send({ type: 'publish', id: 5, channel: 'chat:lib', data: 'two' });
    await bobby.message(4);
    const back = await client('alice');
    back.send({ type: 'subscribe', id: 6, channel: 'chat:lib', since: { offset: 1, epoch: subscribed.epoch } });
    assert.deepEqual(await back.message(1), {
      type: 'message',
      channel: 'chat:lib',
      data: 'two',
      from: 'bobby',
      offset: 2,
      epoch: subscribed.epoch,
    });
    assert.deepEqual(await back.message(2), { type: 'ok', id: 6, recovered: true, offset: 2, epoch: subscribed.epoch });
    for (const s of [alice, bobby, back]) s.close();
  });
});
