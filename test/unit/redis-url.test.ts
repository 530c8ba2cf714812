/** The two forms of --redis-url: one Redis, or a Redis Cluster by seed nodes; problems never echo the URL. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRedisUrl, redisUrlProblem } from '../../src/config/redis-url.ts';

describe('parseRedisUrl', () => {
  it('one Redis: redis:// and rediss:// pass through as they are (ioredis reads them)', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379'), { kind: 'single', url: 'redis://127.0.0.1:6379' });
    assert.deepEqual(parseRedisUrl('rediss://u:p@r.example:6380/2'), { kind: 'single', url: 'rediss://u:p@r.example:6380/2' });
  });

  it('a cluster: seed nodes, default port 6379, IPv6 in brackets, TLS from rediss+cluster', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,redis-2,[::1]:7002/'), {
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    assert.equal((parseRedisUrl('REDISS+CLUSTER://h:1') as { tls: boolean }).tls, true);
  });

  it('a cluster: user and password, percent-decoded; an @ in the password must be encoded', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://app:p%40ss%3Aw@h1:7000,h2:7001'), {
      kind: 'cluster',
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
      tls: false,
      username: 'app',
      password: 'p@ss:w',
    });
    assert.deepEqual((parseRedisUrl('redis+cluster://:secret@h:7000') as { password?: string }).password, 'secret');
  });

  it('refuses what is neither form, and never repeats the URL (it may hold a password)', () => {
    const bad = [
      'http://h:6379',
      'redis+cluster://',
      'redis+cluster://h:0',
      'redis+cluster://h:70000',
      'redis+cluster://h:7000/0',
      'redis+cluster://h:7000?db=1',
      'redis+cluster://h1:7000,,h2:7000',
      'redis+cluster://h 1:7000',
      'redis+cluster://u:%zz@h:7000',
      `redis+cluster://${Array.from({ length: 65 }, (_, i) => `h${i}:7000`).join(',')}`,
    ];
    for (const text of bad) {
      const problem = redisUrlProblem(`${text.replace('://', '://user:hunter2-secret@')}`);
      assert.ok(problem !== null, text);
      assert.ok(!problem.includes('hunter2'), problem);
    }
    assert.equal(redisUrlProblem('redis+cluster://h:7000'), null);
  });
});
