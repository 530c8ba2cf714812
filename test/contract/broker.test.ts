import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryBroker } from '../../src/backends/memory/broker.ts';
import { RedisBroker } from '../../src/backends/redis/broker.ts';
import { createSubscriber } from '../../src/backends/redis/subscribers.ts';
import type { BrokerMessage } from '../../src/channels/broker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { waitFor } from '../support/redis-server.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { brokerContract } from './broker.contract.ts';

const fx = contractFixture();

const redisBroker = (p: string) => whenHealthy(new RedisBroker({ url: fx.redis.url, prefix: p }), 'broker healthy');

brokerContract('memory', async () => samePair(new MemoryBroker()));
brokerContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => redisBroker(p));
});

describe('RedisBroker specifics', () => {
  it('SUBSCRIBEs on the first local listener and UNSUBSCRIBEs after the last', async () => {
    const p = fx.prefix();
    const broker = await redisBroker(p);
    const admin = new Redis(fx.redis.url);
    const numsub = async () => Number((await admin.pubsub('NUMSUB', `${p}ch:rc`))[1]);
    try {
      const one = await broker.subscribe('rc', () => {});
      const two = await broker.subscribe('rc', () => {});
      assert.equal(await numsub(), 1);
      one();
      assert.equal(await numsub(), 1);
      two();
      // UNSUBSCRIBE is fire-and-forget: poll until Redis has seen it.
      const deadline = Date.now() + 2000;
      while ((await numsub()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await numsub(), 0);
    } finally {
      admin.disconnect();
      await broker.close();
    }
  });

  it('drops malformed messages on its Redis channel and keeps delivering good ones', async () => {
    const p = fx.prefix();
    const broker = await redisBroker(p);
    const admin = new Redis(fx.redis.url);
    try {
      const got: BrokerMessage[] = [];
      await broker.subscribe('m', (m) => got.push(m));
      for (const bad of ['not json', '[1,2]', 'null', '{"channel":"other","from":"x","data":1}', '{"channel":"m","data":1}']) {
        await admin.publish(`${p}ch:m`, bad);
      }
      await broker.publish({ channel: 'm', data: 'good', from: 'alice' });
      await waitFor(() => got.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(got, [{ channel: 'm', data: 'good', from: 'alice' }]);
    } finally {
      admin.disconnect();
      await broker.close();
    }
  });

  it('a shared publisher connection is used and left open by close()', async () => {
    const p = fx.prefix();
    const publisher = new Redis(fx.redis.url);
    const broker = new RedisBroker({ url: fx.redis.url, publisher, prefix: p });
    await waitFor(() => broker.healthy);
    const got: BrokerMessage[] = [];
    await broker.subscribe('s', (m) => got.push(m));
    await broker.publish({ channel: 's', data: 1, from: 'a' });
    await waitFor(() => got.length === 1);
    await broker.close();
    assert.equal(await publisher.ping(), 'PONG');
    publisher.disconnect();
  });

  it('measures cross-instance latency and fan-out rate over loopback', async (t) => {
    const p = fx.prefix();
    const [a, b] = await Promise.all([redisBroker(p), redisBroker(p)]);
    try {
      let received = 0;
      let resolveOne: () => void = () => {};
      await b.subscribe('bench', () => {
        received++;
        resolveOne();
      });
      const samples: number[] = [];
      for (let i = 0; i < 500; i++) {
        const arrived = new Promise<void>((resolve) => (resolveOne = resolve));
        const start = performance.now();
        await a.publish({ channel: 'bench', data: i, from: 'alice' });
        await arrived;
        samples.push(performance.now() - start);
      }
      samples.sort((x, y) => x - y);
      const pct = (q: number) => (samples[Math.floor(q * (samples.length - 1))] ?? NaN).toFixed(3);
      received = 0;
      const total = 20_000;
      const start = performance.now();
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < total; i++) publishes.push(a.publish({ channel: 'bench', data: { i, text: 'hello world' }, from: 'alice' }));
      await Promise.all(publishes);
      await waitFor(() => received === total, 20_000, 'all deliveries');
      const seconds = (performance.now() - start) / 1000;
      t.diagnostic(`publish→deliver latency (A→Redis→B, sequential, n=500): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
      t.diagnostic(`fan-out rate A→B: ${total} messages in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} msg/s`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('SingleSubscriber (the one-Redis receiving side of the broker and the stream)', () => {
  it('a channel removed while its SUBSCRIBE is in flight and added again is subscribed (not answered by the old, undone SUBSCRIBE)', async () => {
    const p = fx.prefix();
    const commands = new Redis(fx.redis.url);
    const got: string[] = [];
    const subscriber = createSubscriber({
      url: fx.redis.url,
      commands,
      name: 'hws-test-sub',
      logger: silentLogger,
      events: { message: (_channel, payload) => got.push(payload), resumed: () => {} },
    });
    try {
      await waitFor(() => subscriber.healthy, 3000, 'subscriber healthy');
      const channel = `${p}again`;
      const first = subscriber.add(channel); // SUBSCRIBE in flight
      subscriber.remove(channel); // UNSUBSCRIBE queued behind it
      await subscriber.add(channel); // must send its own SUBSCRIBE, after the UNSUBSCRIBE
      await first;
      await commands.publish(channel, 'one');
      await waitFor(() => got.length === 1, 2000, 'the message on the channel added again');
      assert.deepEqual(got, ['one']);
    } finally {
      await subscriber.close();
      commands.disconnect();
    }
  });
});
