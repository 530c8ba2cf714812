/**
 * The stream contract against memory and a real redis-server, then what only one backend can show:
 * memory's bounds and restart, and Redis losing data (FLUSHALL, a restart with and without
 * persistence), Redis down, a script that fails before it stores, and the key layout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryStream } from '../../src/backends/memory/stream.ts';
import { RedisStream } from '../../src/backends/redis/stream.ts';
import { closedPortUrl, startRedis, waitFor } from '../support/redis-server.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { fresh, listen, policy, rejectsWith, streamContract } from './stream.contract.ts';

const fx = contractFixture();

const redisStream = (url: string, prefix?: string) =>
  whenHealthy(new RedisStream({ url, ...(prefix ? { prefix } : {}) }), 'stream healthy');

streamContract('memory', async () => samePair(new MemoryStream()));
streamContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => redisStream(fx.redis.url, p));
});

describe('MemoryStream specifics', () => {
  it('a new instance is a new epoch (a restart lost the data)', async () => {
    const [one, two] = [new MemoryStream(), new MemoryStream()];
    const first = await one.publish('chat:1', { data: 1, from: 'a' }, policy());
    const second = await two.publish('chat:1', { data: 1, from: 'a' }, policy());
    assert.equal(second?.offset, 1);
    assert.notEqual(second?.epoch, first?.epoch);
    const read = await two.read('chat:1', { after: 1, limit: 10, epoch: first!.epoch }, policy());
    assert.equal(read.epochMatches, false);
  });

  it('memory stays bounded: channels and stored bytes are capped; an evicted channel comes back with a new epoch', async () => {
    const stream = new MemoryStream({ maxChannels: 50, maxBytes: 20_000 });
    const first = await stream.publish('chat:0', { data: 'x', from: 'a' }, policy());
    for (let i = 1; i < 500; i++) await stream.publish(`chat:${i}`, { data: 'y'.repeat(100), from: 'a' }, policy());
    assert.ok(stream.usage.channels <= 50, `channels ${stream.usage.channels}`);
    assert.ok(stream.usage.bytes <= 20_000, `bytes ${stream.usage.bytes}`);
    const back = await stream.read('chat:0', { after: 1, limit: 10, epoch: first!.epoch }, policy());
    assert.equal(back.epochMatches, false, 'forgotten, so its epoch changed');
    // One channel alone over the byte budget loses its oldest publications, honestly reported.
    const big = new MemoryStream({ maxBytes: 5_000 });
    for (let i = 1; i <= 100; i++) await big.publish('chat:big', { data: 'z'.repeat(100), from: 'a' }, policy());
    assert.ok(big.usage.bytes <= 5_000);
    const all = await big.read('chat:big', { after: 0, limit: 1000 }, policy());
    assert.equal(all.reachesBack, false);
    assert.equal(all.publications.at(-1)?.position?.offset, 100);
    assert.ok(all.publications.length < 100 && all.publications.length > 10, String(all.publications.length));
  });

  it('channels nobody publishes to or reads are forgotten after their position expires', async () => {
    let now = 0;
    const stream = new MemoryStream({ now: () => now });
    for (let i = 0; i < 100; i++) await stream.publish(`chat:${i}`, { data: 'x', from: 'a' }, policy(10, 1_000, 2_000));
    assert.equal(stream.usage.channels, 100);
    now = 5_000;
    for (let i = 0; i < 40; i++) await stream.publish(`other:${i}`, { data: 'x', from: 'a' }, policy(10, 1_000, 2_000));
    // Each operation sweeps a few of the least recently used channels: 40 operations cleared all 100.
    assert.equal(stream.usage.channels, 40);
  });
});

describe('RedisStream specifics', () => {
  it('FLUSHALL loses the stream: a new epoch, offsets from 1, the old position not served', async () => {
    const p = fx.prefix();
    const stream = await redisStream(fx.redis.url, p);
    const admin = new Redis(fx.redis.url);
    try {
      const channel = fresh();
      for (let i = 0; i < 3; i++) await stream.publish(channel, { data: i, from: 'a' }, policy());
      const before = await stream.position(channel, policy());
      await admin.flushall();
      const after = await stream.read(channel, { after: 3, limit: 10, epoch: before.epoch }, policy());
      assert.deepEqual([after.epochMatches, after.reachesBack], [false, false]);
      assert.notEqual(after.position.epoch, before.epoch);
      assert.deepEqual(await stream.publish(channel, { data: 'new', from: 'a' }, policy()), { offset: 1, epoch: after.position.epoch });
    } finally {
      admin.disconnect();
      await stream.close();
    }
  });

  it('keys: one hash tag per channel (one Cluster slot), MAXLEN ~ bounds the stream, TTLs set', async () => {
    const p = fx.prefix();
    const stream = await redisStream(fx.redis.url, p);
    const admin = new Redis(fx.redis.url);
    try {
      const channel = fresh();
      for (let i = 0; i < 1000; i++) await stream.publish(channel, { data: i, from: 'a' }, policy(10, 30_000, 60_000));
      const keys = await admin.keys(`${p}*`);
      assert.deepEqual(keys.sort(), [`${p}m:{${channel}}`, `${p}s:{${channel}}`]);
      assert.ok((await admin.xlen(`${p}s:{${channel}}`)) < 250, 'MAXLEN ~ trims in whole nodes, but trims');
      const [streamTtl, metaTtl] = [await admin.pttl(`${p}s:{${channel}}`), await admin.pttl(`${p}m:{${channel}}`)];
      assert.ok(streamTtl > 0 && streamTtl <= 30_000, String(streamTtl));
      assert.ok(metaTtl > 30_000 && metaTtl <= 60_000, String(metaTtl));
      assert.throws(() => new RedisStream({ url: fx.redis.url, prefix: 'a{b}:' }), RangeError);
    } finally {
      admin.disconnect();
      await stream.close();
    }
  });

  it('a script that fails before storing notifies nothing and consumes no offset (wrong key type, OOM)', async () => {
    const p = fx.prefix();
    const [a, b] = [await redisStream(fx.redis.url, p), await redisStream(fx.redis.url, p)];
    const admin = new Redis(fx.redis.url);
    try {
      const channel = fresh();
      const heard = await listen(b, channel);
      assert.equal((await a.publish(channel, { data: 1, from: 'a' }, policy()))?.offset, 1);
      await waitFor(() => heard.got.length === 1);
      // Something else overwrote the stream key: XADD fails inside the script.
      await admin.set(`${p}s:{${channel}}`, 'not a stream');
      await rejectsWith(a.publish(channel, { data: 'lost', from: 'a' }, policy()), 'unavailable', 'wrong type');
      await admin.del(`${p}s:{${channel}}`);
      // Redis refuses writes over maxmemory (noeviction): the script's first write fails.
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      try {
        await rejectsWith(a.publish(channel, { data: 'oom', from: 'a' }, policy()), 'unavailable', 'OOM');
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        heard.got.map((g) => g.data),
        [1],
        'no notification for what was not stored',
      );
      assert.equal((await a.publish(channel, { data: 2, from: 'a' }, policy()))?.offset, 2, 'no offset was consumed');
      await waitFor(() => heard.got.length === 2);
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('four instances publishing at once get distinct, consecutive offsets', async () => {
    const p = fx.prefix();
    const streams = await Promise.all([1, 2, 3, 4].map(() => redisStream(fx.redis.url, p)));
    try {
      const channel = fresh();
      const told = await Promise.all(
        streams.flatMap((s, n) =>
          Array.from({ length: 100 }, (_, i) => s.publish(channel, { data: `${n}-${i}`, from: 'a' }, policy(1000))),
        ),
      );
      assert.deepEqual(
        told.map((t) => t!.offset).sort((x, y) => x - y),
        Array.from({ length: 400 }, (_, i) => i + 1),
      );
      assert.equal(new Set(told.map((t) => t!.epoch)).size, 1);
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
  });

  it('measures publish throughput with and without history (diagnostic for the phase 2 benchmark)', async (t) => {
    const p = fx.prefix();
    const [a, b] = [await redisStream(fx.redis.url, p), await redisStream(fx.redis.url, p)];
    try {
      for (const history of [null, policy(100)]) {
        const channel = fresh();
        const heard = await listen(b, channel);
        const total = 20_000;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: total }, (_, i) => a.publish(channel, { data: { i, text: 'hello world' }, from: 'alice' }, history)),
        );
        await waitFor(() => heard.got.length === total, 30_000, 'all notified');
        const seconds = (performance.now() - start) / 1000;
        t.diagnostic(
          `${history ? 'with history (append + notify script)' : 'live only (PUBLISH)'}: ${total} publishes notified A→B in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)}/s`,
        );
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('Redis unreachable: nothing healthy, every operation rejects unavailable promptly', async () => {
    const stream = new RedisStream({ url: await closedPortUrl() });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(stream.healthy, false);
      const start = Date.now();
      await rejectsWith(stream.publish('chat:1', { data: 1, from: 'a' }, policy()), 'unavailable');
      await rejectsWith(stream.publish('chat:1', { data: 1, from: 'a' }, null), 'unavailable');
      await rejectsWith(stream.read('chat:1', { after: 0, limit: 1 }, policy()), 'unavailable');
      await rejectsWith(stream.subscribe('chat:1', { publication() {}, resumed() {} }), 'unavailable');
      assert.ok(Date.now() - start < 1000);
    } finally {
      await stream.close();
    }
  });
});

describe('RedisStream when its redis-server dies', () => {
  it('without persistence: publishes while down reject and store nothing; afterwards a new epoch; listeners are told to catch up', async (t) => {
    const redis = await startRedis();
    const [a, b] = [await redisStream(redis.url), await redisStream(redis.url)];
    try {
      const channel = fresh();
      const heard = await listen(b, channel);
      const before = await a.publish(channel, { data: 'before', from: 'a' }, policy());
      await waitFor(() => heard.got.length === 1);
      await redis.kill();
      await waitFor(() => !a.healthy && !b.healthy, 3000, 'unhealthy');
      await rejectsWith(a.publish(channel, { data: 'during', from: 'a' }, policy()), 'unavailable');
      await redis.restart();
      const restarted = Date.now();
      await waitFor(() => a.healthy && b.healthy, 10_000, 'healthy again');
      await waitFor(() => heard.resumed() === 1, 3000, 'resumed()');
      t.diagnostic(`healthy and resumed ${Date.now() - restarted} ms after redis-server answered PING`);
      const read = await b.read(channel, { after: 1, limit: 10, epoch: before!.epoch }, policy());
      assert.deepEqual(
        [read.epochMatches, read.reachesBack, read.position.offset],
        [false, false, 0],
        'the data is gone and the epoch says so',
      );
      const next = await a.publish(channel, { data: 'after', from: 'a' }, policy());
      assert.equal(next?.offset, 1);
      await waitFor(() => heard.got.length === 2);
      assert.deepEqual(
        heard.got.map((g) => g.data),
        ['before', 'after'],
        '"during" was neither stored nor notified',
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.stop();
    }
  });

  it('with AOF persistence: same epoch and history after a SIGKILL and restart', async () => {
    const redis = await startRedis({ appendonly: true });
    const stream = await redisStream(redis.url);
    try {
      const channel = fresh();
      for (let i = 1; i <= 5; i++) await stream.publish(channel, { data: i, from: 'a' }, policy());
      const before = await stream.position(channel, policy());
      await redis.kill();
      await rejectsWith(stream.publish(channel, { data: 'during', from: 'a' }, policy()), 'unavailable');
      await redis.restart();
      await waitFor(() => stream.healthy, 10_000, 'healthy again');
      const read = await stream.read(channel, { after: 2, limit: 10, epoch: before.epoch }, policy());
      assert.deepEqual([read.epochMatches, read.reachesBack], [true, true]);
      assert.deepEqual(
        read.publications.map((p) => p.data),
        [3, 4, 5],
      );
      assert.deepEqual(
        await stream.publish(channel, { data: 6, from: 'a' }, policy()),
        { offset: 6, epoch: before.epoch },
        'the rejected publish stored nothing',
      );
    } finally {
      await stream.close();
      await redis.stop();
    }
  });
});
