/**
 * The presence contract against memory and a real redis-server, then the leases: an instance
 * (a real process) SIGKILLed while holding entries, measured until its entries are gone; renewal
 * keeping entries past the lease; and entries written back after Redis restarts empty.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { MemoryPresence } from '../../src/backends/memory/presence.ts';
import { DEFAULT_PRESENCE_LEASE_MS, RedisPresence } from '../../src/backends/redis/presence.ts';
import { projectRoot } from '../support/server-process.ts';
import { startRedis, waitFor } from '../support/redis-server.ts';
import { contractFixture, samePair, twoInstances, whenHealthy } from './fixture.ts';
import { presenceContract } from './presence.contract.ts';
import { fresh } from './stream.contract.ts';

const fx = contractFixture();

const redisPresence = (url: string, prefix: string, leaseMs?: number) =>
  whenHealthy(new RedisPresence({ url, prefix, ...(leaseMs ? { leaseMs } : {}) }), 'presence healthy');

presenceContract('memory', async () => samePair(new MemoryPresence()));
presenceContract('redis (two instances, one server)', () => {
  const p = fx.prefix();
  return twoInstances(() => redisPresence(fx.redis.url, p));
});

/** Starts presence-holder.ts in its own process; resolves once its entries are in Redis. */
async function holder(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/contract/presence-holder.ts'], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await waitFor(() => output.includes('joined') || child.exitCode !== null, 10_000, 'holder joined');
  if (!output.includes('joined')) throw new Error(`holder failed:\n${output}`);
  return child;
}

describe('RedisPresence leases', () => {
  it(`the default lease is ${DEFAULT_PRESENCE_LEASE_MS} ms`, async () => {
    const presence = new RedisPresence({ url: fx.redis.url });
    assert.equal(presence.leaseMs, DEFAULT_PRESENCE_LEASE_MS);
    await presence.close();
  });

  it('a SIGKILLed instance: its entries are gone within leaseMs of the kill, and not at once (measured); each is reported lapsed once, by one instance', async (t) => {
    const leaseMs = 1500;
    const p = fx.prefix();
    const observer = await redisPresence(fx.redis.url, p, leaseMs);
    const other = await redisPresence(fx.redis.url, p, leaseMs); // a second live instance, renewing the same channel
    const lapsed: string[] = [];
    for (const instance of [observer, other])
      instance.watch({
        lapsed: (channel, members) => lapsed.push(...members.map((m) => `${channel} ${m.connectionId} ${m.sub}`)),
        restored: () => assert.fail('nothing of a live instance was dropped'),
      });
    const samples: number[] = [];
    try {
      for (let trial = 0; trial < 3; trial++) {
        const channel = fresh();
        const child = await holder({ REDIS_URL: fx.redis.url, PREFIX: p, LEASE_MS: String(leaseMs), CHANNEL: channel, COUNT: '50' });
        await other.join(channel, { sub: 'other', connectionId: 'other-c1' });
        await observer.join(channel, { sub: 'survivor', connectionId: 'observer-c1' });
        assert.deepEqual(await observer.stats(channel), { connections: 52, users: 5 });
        // Let a few renewals pass, and kill at a point unrelated to the renewal timer.
        await new Promise((resolve) => setTimeout(resolve, leaseMs + 137 * trial));
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        const killedAt = performance.now();
        await exited;
        let goneAt = 0;
        while (goneAt === 0) {
          const stats = await observer.stats(channel);
          if (stats.connections === 2) goneAt = performance.now();
          else {
            assert.equal(stats.connections, 52, "a channel loses a dead instance's entries all at once or not yet");
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.ok(performance.now() - killedAt < leaseMs * 3, 'entries outlived three leases');
        }
        samples.push(goneAt - killedAt);
        assert.deepEqual(
          (await observer.list(channel, 10)).entries.map((e) => e.connectionId).sort(),
          ['observer-c1', 'other-c1'],
          "the live instances' entries stay",
        );
        await other.leave(channel, 'other-c1');
        assert.deepEqual(await observer.stats(channel), { connections: 1, users: 1 });
        await observer.leave(channel, 'observer-c1');
        const told = lapsed.filter((line) => line.startsWith(`${channel} `)).sort();
        const expected = Array.from({ length: 50 }, (_, i) => `${channel} holder-c${i} holder-${i % 3}`).sort();
        assert.deepEqual(told, expected, 'every entry of the killed instance reported lapsed exactly once');
      }
      t.diagnostic(
        `lease ${leaseMs} ms, renewed every ${leaseMs / 3} ms: a killed instance's 50 entries were gone ${samples.map((s) => s.toFixed(0)).join(', ')} ms after SIGKILL`,
      );
      for (const elapsed of samples) {
        // The bound: the last renewal was at most leaseMs/3 before the kill, so gone within leaseMs of it (+ poll step).
        assert.ok(elapsed <= leaseMs + 50, `gone after ${elapsed} ms > lease ${leaseMs} ms`);
        assert.ok(elapsed >= leaseMs / 2, `gone after ${elapsed} ms: removed on disconnect, not by the lease`);
      }
    } finally {
      await Promise.all([observer.close(), other.close()]);
    }
  });

  it('renewal keeps entries alive well past the lease; leave and close remove them at once', async () => {
    const p = fx.prefix();
    const [a, b] = [await redisPresence(fx.redis.url, p, 300), await redisPresence(fx.redis.url, p, 300)];
    try {
      const channel = fresh();
      await a.join(channel, { sub: 'alice', connectionId: 'c1' });
      await a.join(channel, { sub: 'alice', connectionId: 'c2' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(await b.stats(channel), { connections: 2, users: 1 });
      await a.leave(channel, 'c1');
      assert.deepEqual(await b.stats(channel), { connections: 1, users: 1 });
      await a.close();
      assert.deepEqual(await b.stats(channel), { connections: 0, users: 0 }, 'close() leaves');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('Redis restarted empty: join rejects while down, then every held entry is written back', async () => {
    const redis = await startRedis();
    const p = 'restart:';
    const [a, b] = [await redisPresence(redis.url, p, 600), await redisPresence(redis.url, p, 600)];
    try {
      const channel = fresh();
      const restored: string[] = [];
      a.watch({ lapsed: () => {}, restored: (ch, members) => restored.push(...members.map((m) => `${ch} ${m.connectionId} ${m.sub}`)) });
      await a.join(channel, { sub: 'alice', connectionId: 'c1', info: { name: 'Alice' } });
      await redis.kill();
      await waitFor(() => !a.healthy, 3000, 'unhealthy');
      await assert.rejects(
        a.join(channel, { sub: 'bob', connectionId: 'c2' }),
        (e: unknown) => (e as { code?: unknown }).code === 'unavailable',
      );
      await a.leave(channel, 'never'); // never rejects
      await redis.restart();
      await waitFor(() => a.healthy && b.healthy, 10_000, 'healthy again');
      assert.deepEqual(
        (await b.list(channel, 10)).entries,
        [{ sub: 'alice', connectionId: 'c1', info: { name: 'Alice' } }],
        'written back; the failed join is not held',
      );
      assert.deepEqual(restored, [`${channel} c1 alice`], 'reported as written back (its join is told again)');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.stop();
    }
  });

  it('a prefix with braces is refused (it would move the hash tag)', () => {
    assert.throws(() => new RedisPresence({ url: fx.redis.url, prefix: '{x}' }), RangeError);
  });
});
