import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/auth/verifier.ts';
import type { Broker, BrokerMessage, Listener } from '../../src/channels/broker.ts';
import { channelHandlers, isAllowed, isValidChannel, matches } from '../../src/channels/index.ts';
import type { HandlerContext } from '../../src/core/handler.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { InboundMessage, OutboundMessage } from '../../src/protocol/messages.ts';

describe('channel names and permission patterns', () => {
  it('accepts bounded printable names only', () => {
    for (const ok of ['chat:lobby', 'user:alice', 'a', 'x'.repeat(128), 'room-1.eu@v2']) assert.ok(isValidChannel(ok), ok);
    for (const bad of ['', 'x'.repeat(129), 'chat lobby', 'chat/*', '$hws.control', 'ümlaut', 42, null])
      assert.ok(!isValidChannel(bad), String(bad));
  });

  it('matches * as any run and nothing else', () => {
    assert.ok(matches('chat:*', 'chat:lobby'));
    assert.ok(matches('chat:*', 'chat:'));
    assert.ok(!matches('chat:*', 'chatroom'));
    assert.ok(matches('*', 'anything:at:all'));
    assert.ok(matches('a*b*c', 'a-x-b-y-c'));
    assert.ok(!matches('a*b*c', 'a-x-b-y-d'));
    assert.ok(!matches('user:alice', 'user:alice2'));
    // A pathological pattern stays linear-ish (no regex backtracking).
    assert.ok(!matches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(128)));
  });

  it('substitutes {sub} and requires the claim', () => {
    const alice: Identity = { sub: 'alice', exp: 0, claims: { subscribe: ['chat:*', 'user:{sub}'], publish: ['chat:*'] } };
    assert.ok(isAllowed(alice, 'subscribe', 'user:alice'));
    assert.ok(!isAllowed(alice, 'subscribe', 'user:bob'));
    assert.ok(isAllowed(alice, 'publish', 'chat:lobby'));
    assert.ok(!isAllowed(alice, 'publish', 'user:alice'));
    const nobody: Identity = { sub: 'x', exp: 0, claims: {} };
    assert.ok(!isAllowed(nobody, 'subscribe', 'chat:lobby'));
    const malformed: Identity = { sub: 'x', exp: 0, claims: { subscribe: 'chat:*' } };
    assert.ok(!isAllowed(malformed, 'subscribe', 'chat:lobby'));
  });
});

/** A broker whose availability the test switches. */
class FakeBroker implements Broker {
  readonly listeners = new Map<string, Set<Listener>>();
  healthy = true;
  async publish(message: BrokerMessage): Promise<void> {
    if (!this.healthy) throw Object.assign(new Error('down'), { code: 'unavailable' });
    for (const listener of this.listeners.get(message.channel) ?? []) listener(message);
  }
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    if (!this.healthy) throw Object.assign(new Error('down'), { code: 'unavailable' });
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel)!.add(listener);
    return () => this.listeners.get(channel)?.delete(listener);
  }
  async close(): Promise<void> {}
}

function fakeContext(sub: string, id = sub) {
  const sent: OutboundMessage[] = [];
  const onClose: (() => void)[] = [];
  let closed = false;
  const ctx: HandlerContext = {
    connectionId: id,
    identity: { sub, exp: 0, claims: { subscribe: ['chat:*', 'user:{sub}'], publish: ['chat:*'] } },
    logger: silentLogger,
    get closed() {
      return closed;
    },
    send: (message) => sent.push(message),
    onClose: (callback) => onClose.push(callback),
  };
  return { ctx, sent, close: () => ((closed = true), onClose.forEach((c) => c())) };
}

const msg = (m: Record<string, unknown>) => m as InboundMessage;

describe('channel handlers', () => {
  it('subscribe, publish, deliver with from, unsubscribe — each acknowledged by id', async () => {
    const broker = new FakeBroker();
    const h = channelHandlers({ broker, maxChannelsPerConnection: 4 });
    const alice = fakeContext('alice');
    const bob = fakeContext('bob');
    await h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:lobby' }), alice.ctx);
    await h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:lobby', data: { text: 'hi' } }), bob.ctx);
    assert.deepEqual(alice.sent, [
      { type: 'ok', id: 1 },
      { type: 'message', channel: 'chat:lobby', data: { text: 'hi' }, from: 'bob' },
    ]);
    assert.deepEqual(bob.sent, [{ type: 'ok', id: 2 }]);
    await h.unsubscribe!(msg({ type: 'unsubscribe', id: 3, channel: 'chat:lobby' }), alice.ctx);
    await h.publish!(msg({ type: 'publish', id: 4, channel: 'chat:lobby', data: 'again' }), bob.ctx);
    assert.deepEqual(alice.sent.at(-1), { type: 'ok', id: 3 });
    assert.equal(alice.sent.length, 3, 'nothing delivered after unsubscribe');
  });

  it('refuses bad names, forbidden channels and too many channels with error replies', async () => {
    const h = channelHandlers({ broker: new FakeBroker(), maxChannelsPerConnection: 2 });
    const alice = fakeContext('alice');
    await h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'no spaces' }), alice.ctx);
    await h.subscribe!(msg({ type: 'subscribe', id: 2, channel: 'user:bob' }), alice.ctx);
    await h.publish!(msg({ type: 'publish', id: 3, channel: 'user:alice', data: 1 }), alice.ctx);
    await h.subscribe!(msg({ type: 'subscribe', id: 4, channel: 'chat:a' }), alice.ctx);
    await h.subscribe!(msg({ type: 'subscribe', id: 5, channel: 'user:alice' }), alice.ctx);
    await h.subscribe!(msg({ type: 'subscribe', id: 6, channel: 'chat:b' }), alice.ctx);
    assert.deepEqual(alice.sent, [
      { type: 'error', id: 1, code: 'invalid_channel' },
      { type: 'error', id: 2, code: 'forbidden' },
      { type: 'error', id: 3, code: 'forbidden' },
      { type: 'ok', id: 4 },
      { type: 'ok', id: 5 },
      { type: 'error', id: 6, code: 'too_many_channels' },
    ]);
  });

  it('answers unavailable when the broker is down, and recovers', async () => {
    const broker = new FakeBroker();
    const h = channelHandlers({ broker, maxChannelsPerConnection: 4 });
    const alice = fakeContext('alice');
    broker.healthy = false;
    await h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:a' }), alice.ctx);
    await h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:a', data: 1 }), alice.ctx);
    broker.healthy = true;
    await h.subscribe!(msg({ type: 'subscribe', id: 3, channel: 'chat:a' }), alice.ctx);
    assert.deepEqual(alice.sent, [
      { type: 'error', id: 1, code: 'unavailable' },
      { type: 'error', id: 2, code: 'unavailable' },
      { type: 'ok', id: 3 },
    ]);
  });

  it('drops every subscription of a connection when it closes', async () => {
    const broker = new FakeBroker();
    const h = channelHandlers({ broker, maxChannelsPerConnection: 4 });
    const alice = fakeContext('alice');
    await h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:a' }), alice.ctx);
    await h.subscribe!(msg({ type: 'subscribe', id: 2, channel: 'user:alice' }), alice.ctx);
    assert.equal(broker.listeners.get('chat:a')?.size, 1);
    alice.close();
    assert.equal(broker.listeners.get('chat:a')?.size, 0);
    assert.equal(broker.listeners.get('user:alice')?.size, 0);
  });
});
