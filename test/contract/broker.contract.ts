/**
 * What every Broker must do. The factory gives two brokers `a` and `b`: two instances sharing one
 * backend (Redis), or the same object twice (memory, where "every instance" is this process).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Broker, BrokerMessage } from '../../src/channels/broker.ts';
import { CONTROL_CHANNEL } from '../../src/channels/names.ts';
import { waitFor } from '../support/redis-server.ts';

export interface BrokerPair {
  readonly a: Broker;
  readonly b: Broker;
  close(): Promise<void>;
}

/** Collects what one listener receives. */
async function listen(broker: Broker, channel: string) {
  const got: BrokerMessage[] = [];
  const stop = await broker.subscribe(channel, (m) => got.push(m));
  return { got, stop };
}

export function brokerContract(name: string, make: () => Promise<BrokerPair>): void {
  describe(`Broker contract: ${name}`, () => {
    let pair: BrokerPair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('delivers channel, data and from; JSON data round-trips', async () => {
      const { got } = await listen(pair.a, 'chat:1');
      const data = { text: 'héllo ✓', n: 1.5, list: [1, null, 'x'], nested: { ok: true } };
      await pair.a.publish({ channel: 'chat:1', data, from: 'alice' });
      await waitFor(() => got.length === 1);
      assert.deepEqual(got[0], { channel: 'chat:1', data, from: 'alice' });
    });

    it('a publish on one instance reaches listeners on the other, and on its own', async () => {
      const onA = await listen(pair.a, 'room');
      const onB = await listen(pair.b, 'room');
      await pair.a.publish({ channel: 'room', data: 'x', from: 'alice' });
      await waitFor(() => onA.got.length === 1 && onB.got.length === 1);
      await pair.b.publish({ channel: 'room', data: 'y', from: 'bob' });
      await waitFor(() => onA.got.length === 2 && onB.got.length === 2);
      assert.equal(onA.got[1]?.from, 'bob');
    });

    it('publishing to a channel nobody listens to resolves', async () => {
      await pair.a.publish({ channel: 'nobody', data: 1, from: 'alice' });
    });

    it('channels are isolated, including names that prefix each other', async () => {
      const chat = await listen(pair.b, 'chat');
      const chat1 = await listen(pair.b, 'chat:1');
      await pair.a.publish({ channel: 'chat:1', data: 1, from: 'alice' });
      await pair.a.publish({ channel: 'chat', data: 2, from: 'alice' });
      await waitFor(() => chat.got.length === 1 && chat1.got.length === 1);
      assert.equal(chat.got[0]?.data, 2);
      assert.equal(chat1.got[0]?.data, 1);
    });

    it('delivery is asynchronous: never inside publish()', async () => {
      let called = false;
      await pair.a.subscribe('async', () => (called = true));
      const published = pair.a.publish({ channel: 'async', data: 1, from: 'alice' });
      assert.equal(called, false);
      await published;
      await waitFor(() => called);
    });

    it('keeps publish order from one publisher', async () => {
      const { got } = await listen(pair.b, 'order');
      for (let i = 0; i < 50; i++) await pair.a.publish({ channel: 'order', data: i, from: 'alice' });
      await waitFor(() => got.length === 50);
      assert.deepEqual(
        got.map((m) => m.data),
        [...Array(50).keys()],
      );
    });

    it('several listeners on one channel; removing one keeps the others (refcount)', async () => {
      const one = await listen(pair.b, 'shared');
      const two = await listen(pair.b, 'shared');
      await pair.a.publish({ channel: 'shared', data: 1, from: 'alice' });
      await waitFor(() => one.got.length === 1 && two.got.length === 1);
      one.stop();
      one.stop(); // idempotent: must not remove the other listener's share
      await pair.a.publish({ channel: 'shared', data: 2, from: 'alice' });
      await waitFor(() => two.got.length === 2);
      assert.equal(one.got.length, 1);
      two.stop();
      const probe = await listen(pair.b, 'shared'); // first listener again: subscribes anew
      await pair.a.publish({ channel: 'shared', data: 3, from: 'alice' });
      await waitFor(() => probe.got.length === 1);
      assert.equal(two.got.length, 2);
    });

    it('the same function subscribed twice is two subscriptions', async () => {
      const got: unknown[] = [];
      const fn = (m: BrokerMessage) => got.push(m.data);
      const first = await pair.b.subscribe('twice', fn);
      await pair.b.subscribe('twice', fn);
      await pair.a.publish({ channel: 'twice', data: 1, from: 'alice' });
      await waitFor(() => got.length === 2);
      first();
      await pair.a.publish({ channel: 'twice', data: 2, from: 'alice' });
      await waitFor(() => got.length === 3);
    });

    it('a listener may unsubscribe itself or another during delivery', async () => {
      const seen: string[] = [];
      let stopOther = () => {};
      const stopSelf = await pair.b.subscribe('reentrant', (m) => {
        seen.push(`self:${String(m.data)}`);
        stopSelf();
        stopOther();
      });
      stopOther = await pair.b.subscribe('reentrant', (m) => seen.push(`other:${String(m.data)}`));
      const probe = await listen(pair.b, 'reentrant');
      await pair.a.publish({ channel: 'reentrant', data: 1, from: 'alice' });
      await pair.a.publish({ channel: 'reentrant', data: 2, from: 'alice' });
      await waitFor(() => probe.got.length === 2);
      // 'other' was removed before its turn for message 1, so it never runs; neither runs for message 2.
      assert.deepEqual(seen, ['self:1']);
    });

    it('a listener that throws does not stop the others', async () => {
      await pair.b.subscribe('throws', () => {
        throw new Error('listener bug');
      });
      const after = await listen(pair.b, 'throws');
      await pair.a.publish({ channel: 'throws', data: 1, from: 'alice' });
      await waitFor(() => after.got.length === 1);
    });

    it('no delivery after unsubscribe', async () => {
      const gone = await listen(pair.b, 'gone');
      const probe = await listen(pair.b, 'gone');
      gone.stop();
      await pair.a.publish({ channel: 'gone', data: 1, from: 'alice' });
      await waitFor(() => probe.got.length === 1);
      assert.equal(gone.got.length, 0);
    });

    it('the reserved control channel works and is not a client channel', async () => {
      const control = await listen(pair.b, CONTROL_CHANNEL);
      const lookalike = await listen(pair.b, 'hws.control');
      await pair.a.publish({ channel: CONTROL_CHANNEL, data: { type: 'revoke', sid: 's1' }, from: 'instance-a' });
      await waitFor(() => control.got.length === 1);
      assert.deepEqual(control.got[0]?.data, { type: 'revoke', sid: 's1' });
      assert.equal(lookalike.got.length, 0);
    });

    it('healthy while open; after close it is not, and publish/subscribe reject with code unavailable', async () => {
      assert.equal(pair.a.healthy, true);
      await pair.a.close();
      assert.equal(pair.a.healthy, false);
      const isUnavailable = (err: unknown) => (err as { code?: unknown }).code === 'unavailable';
      await assert.rejects(pair.a.publish({ channel: 'x', data: 1, from: 'alice' }), isUnavailable);
      await assert.rejects(
        pair.a.subscribe('x', () => {}),
        isUnavailable,
      );
      await pair.a.close(); // idempotent
    });
  });
}
