/**
 * The SDK's recovery against the real server on Node, Bun and Deno (a config file: `chat` keeps
 * 300 with recovery, presence and join/leave): a client whose connection is cut
 * while 300 messages are published gets exactly those 300 after it reconnects — in order, once
 * each, marked recovered — then live ones; cut for longer than the history reaches, it hears
 * `resync`; presence, history and join/leave through the SDK.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { connect, type Client, type Publication, type Subscribed, type WebSocketConstructor } from '../../src/client/index.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { basicTicketSource, waitForState } from './real-server.ts';

const CHANNEL = 'chat:lobby';
const KEPT = 300;
const namespaces = { chat: { 'history-size': KEPT, 'history-ttl': '5m', recovery: true, presence: true, 'join-leave': true } };

function serverOptions(): { args: string[] } {
  const config = path.join(mkdtempSync(path.join(os.tmpdir(), 'hws-recovery-')), 'hardened-ws.json');
  writeFileSync(config, JSON.stringify({ namespaces }));
  return {
    args: [
      '--config',
      config,
      '--demo-users',
      'demo:demo,alice:alice-password',
      '--ticket-rate',
      '100/s,1000',
      '--message-rate',
      '5000/s,5000',
    ],
  };
}

/** A WebSocket for the SDK whose connections the test can cut, and keep cut (new ones are refused) until restore(). */
function cuttableNetwork() {
  const state = { offline: false };
  const open = new Set<WebSocket>();
  class CuttableWebSocket extends WebSocket {
    constructor(url: string) {
      super(state.offline ? 'ws://127.0.0.1:1/ws' : url); // port 1: refused at once
      open.add(this);
      this.on('close', () => open.delete(this));
    }
  }
  return {
    WebSocket: CuttableWebSocket as unknown as WebSocketConstructor,
    cut(): void {
      state.offline = true;
      for (const socket of open) socket.terminate();
    },
    restore(): void {
      state.offline = false;
    },
  };
}

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const runtime of ['node', 'bun', 'deno'] as const satisfies readonly RuntimeTarget[]) {
  describe(`SDK recovery against the ${runtime} server`, { timeout: 120_000 }, () => {
    let server: ServerProcess;
    let network: ReturnType<typeof cuttableNetwork>;
    let demo: Client;
    let alice: Client;
    const got: Publication[] = [];
    const subscribed: Subscribed[] = [];
    const resyncs: string[] = [];
    const events: string[] = [];

    before(async () => {
      server = await startServer(runtime, serverOptions());
      network = cuttableNetwork();
      demo = connect({
        url: server.wsUrl,
        getTicket: basicTicketSource(() => server.origin),
        WebSocket: network.WebSocket,
        backoff: { minMs: 50, maxMs: 400 },
      });
      alice = connect({
        url: server.wsUrl,
        getTicket: basicTicketSource(() => server.origin, 'alice', 'alice-password'),
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      const lobby = demo.channel(CHANNEL);
      lobby.on('message', (m) => got.push(m));
      lobby.on('subscribed', (s) => subscribed.push(s));
      lobby.on('resync', (r) => resyncs.push(r.reason));
      lobby.on('join', (e) => events.push(`join ${e.sub}`));
      lobby.on('leave', (e) => events.push(`leave ${e.sub}`));
      await lobby.subscribe();
      await waitForState(alice, 'open');
    });
    after(async () => {
      demo?.close();
      alice?.close();
      await server?.stop();
    });

    it('presence, join/leave and history through the SDK', async () => {
      await alice.subscribe(CHANNEL, () => {});
      await until('the join', () => events.includes('join alice'));
      const presence = await demo.presence(CHANNEL);
      assert.deepEqual([...new Set(presence.clients.map((c) => c.sub))].sort(), ['alice', 'demo']);
      assert.equal(presence.total, 2);
      assert.deepEqual(await alice.presenceStats(CHANNEL), { channel: CHANNEL, connections: 2, users: 2 });
      const stored = await alice.publish(CHANNEL, { n: 0 });
      assert.ok(stored !== null && stored.offset >= 1, 'publish resolves with the stored position');
      await until('the live message', () => got.length === 1);
      assert.deepEqual({ offset: got[0]!.offset, epoch: got[0]!.epoch, recovered: got[0]!.recovered }, { ...stored, recovered: false });
      const page = await alice.history(CHANNEL, { since: { offset: stored.offset - 1, epoch: stored.epoch }, limit: 5 });
      assert.deepEqual(page.publications, [{ data: { n: 0 }, from: 'alice', offset: stored.offset, epoch: stored.epoch }]);
      assert.equal(page.complete, true);
    });

    it('cut while 300 are published: after the reconnect exactly those 300, in order, once each, recovered; then live ones', async () => {
      const before = got.length;
      network.cut();
      await until('the cut', () => demo.state !== 'open');
      for (let n = 1; n <= 300; n++) await alice.publish(CHANNEL, { n });
      network.restore();
      await until('the recovery', () => subscribed.length === 2);
      await alice.publish(CHANNEL, { n: 301 });
      await until('the live message after it', () => got.length === before + 301);
      const after = got.slice(before);
      assert.deepEqual(
        after.map((m) => (m.data as { n: number }).n),
        Array.from({ length: 301 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        after.map((m) => m.recovered),
        [...Array<boolean>(300).fill(true), false],
      );
      const offsets = after.map((m) => m.offset!);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => offsets[0]! + i),
        'consecutive offsets',
      );
      assert.deepEqual(subscribed[1], {
        channel: CHANNEL,
        position: { offset: offsets[299], epoch: after[0]!.epoch },
        wasRecovering: true,
        recovered: true,
      });
      assert.deepEqual(resyncs, []);
    });

    it(`cut for longer than the history reaches (${KEPT + 10} published, ${KEPT} kept): resync, then live messages go on`, async () => {
      const before = got.length;
      network.cut();
      await until('the cut', () => demo.state !== 'open');
      for (let n = 1; n <= KEPT + 10; n++) await alice.publish(CHANNEL, { burst: n });
      network.restore();
      await until('the resubscribe', () => subscribed.length === 3);
      assert.equal(subscribed[2]!.wasRecovering, true);
      assert.equal(subscribed[2]!.recovered, false);
      assert.deepEqual(resyncs, ['history_exhausted']);
      await alice.publish(CHANNEL, { after: true });
      await until('the live message', () => got.length > before);
      assert.deepEqual(
        got.slice(before).map((m) => m.data),
        [{ after: true }],
        'nothing from the lost stretch, then live',
      );
    });
  });
}
