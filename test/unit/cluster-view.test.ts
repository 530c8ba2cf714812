/**
 * The cluster view over a shared broker (a MemoryBroker standing for Redis pub/sub): instances learn
 * each other from hellos, a query returns once every live instance answered, a silent one is named
 * as missing at the deadline, and one that said goodbye is no longer waited for.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MemoryBroker } from '../../src/backends/memory/broker.ts';
import type { Broker } from '../../src/channels/broker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { createClusterView, type ClusterViewHandle, type LocalView } from '../../src/server/cluster-view.ts';

const local = (connections: number, channels: [string, number][]): LocalView => ({
  info: () => ({ version: '0.1.0', runtime: 'node', runtimeVersion: 'v20', connections, users: 1, startedAt: '2026-01-01T00:00:00.000Z' }),
  channels: () => channels,
});

describe('cluster view', () => {
  const views: ClusterViewHandle[] = [];
  const view = (broker: Broker, lv: LocalView, answerTimeoutMs = 2_000) => {
    const created = createClusterView(broker, lv, silentLogger, { helloIntervalMs: 50, answerTimeoutMs });
    views.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(views.splice(0).map((v) => v.close()));
  });

  it('alone: its own answer at once', async () => {
    const a = view(new MemoryBroker(), local(2, [['chat:a', 2]]));
    assert.deepEqual(
      (await a.info()).answers.map((i) => [i.id, i.connections]),
      [[a.instance, 2]],
    );
  });

  it('three instances: every answer, filtered and cut at the limit per instance; quicker than the deadline', async () => {
    const broker = new MemoryBroker();
    const a = view(
      broker,
      local(1, [
        ['chat:a', 1],
        ['news:x', 5],
      ]),
      5_000,
    );
    view(
      broker,
      local(2, [
        ['chat:a', 2],
        ['chat:b', 1],
      ]),
    );
    view(
      broker,
      local(3, [
        ['chat:c', 7],
        ['chat:a', 1],
        ['chat:b', 1],
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 150)); // hellos go round
    const started = Date.now();
    const info = await a.info();
    assert.ok(Date.now() - started < 1_000, 'returns when all answered, not at the 5 s deadline');
    assert.deepEqual(info.answers.map((i) => i.connections).sort(), [1, 2, 3]);
    assert.deepEqual(info.missing, []);
    const channels = await a.channels({ pattern: 'chat:*', limit: 2 });
    assert.deepEqual(
      channels.answers.map((x) => [x.channels.map((c) => `${c.channel}=${c.subscribers}`), x.truncated]).sort(),
      [
        [['chat:a=1'], false],
        [['chat:a=2', 'chat:b=1'], false],
        [['chat:c=7', 'chat:a=1'], true],
      ].sort(),
    );
  });

  it('a live instance that does not answer is named as missing at the deadline; one that said goodbye is not waited for', async () => {
    const broker = new MemoryBroker();
    const a = view(broker, local(1, []), 300);
    const b = view(broker, local(2, []));
    // A third instance that says hello but never answers (its answers are lost).
    const mute: Broker = {
      publish: (m) => ((m.data as { kind?: string }).kind === 'answer' ? Promise.resolve() : broker.publish(m)),
      subscribe: (channel, listener) => broker.subscribe(channel, listener),
      healthy: true,
      close: async () => {},
    };
    const c = view(mute, local(3, []));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const info = await a.info();
    assert.deepEqual(info.answers.map((i) => i.connections).sort(), [1, 2]);
    assert.deepEqual(info.missing, [c.instance]);
    await c.close();
    await b.close();
    const started = Date.now();
    const after = await a.info();
    assert.ok(Date.now() - started < 250);
    assert.deepEqual([after.answers.length, after.missing], [1, []]);
  });
});
