/**
 * Three instances (Node, Bun, Deno) on a real Redis Cluster (3 masters, 3 replicas, loopback):
 * subscribers on two, a publisher on the third, three channels chosen so each lives on another
 * master (sharded pub/sub: each channel's notifications only on its own shard).
 * - Scale: every publish answered `ok` reaches every subscriber exactly once, in order, per channel.
 * - Failover: a master SIGKILLed under publish load, its replica promoted (cluster-node-timeout
 *   1 s). Nothing hangs; /readyz answers 503 on every instance from the kill until the promoted
 *   master serves and the instances resubscribed, then 200. Publishes to the failed shard get
 *   `unavailable` meanwhile. The other channels keep their epoch and every ok is delivered once, in
 *   order. The failed shard's channel starts a new epoch: its subscribers are told `resync` once,
 *   and every ok of the new epoch is delivered once, in order. Replication is asynchronous: how many
 *   acknowledged publications the promoted replica lacked is measured and printed per failover
 *   (the victim channel's publisher pauses at the kill so the replica's copy can be read before
 *   the first append on it starts the new epoch). CLUSTER_FAILOVERS=n runs n failovers (default 2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PREFIX } from '../../src/backends/redis/connect.ts';
import { channelKeys } from '../../src/backends/redis/keys.ts';
import { slotOf } from '../../src/backends/redis/slot.ts';
import { issuedSecrets } from '../support/flow.ts';
import { startRedisCluster, type ClusterNodeInfo, type RedisCluster } from '../support/redis-cluster.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  assertExactlyOnceInOrder,
  delivered,
  namespacesConfig,
  sockets,
  startAll,
  subscribeAt,
  untilDelivered,
  type Outcome,
} from './delivery-support.ts';
import { OPEN_LIMITS, assertCleanOutput, demoUsers, get, sleep, waitForReady, type Instance } from './support.ts';

const FAILOVERS = Number(process.env.CLUSTER_FAILOVERS ?? 2);
const PER_INSTANCE = 50;
const PER_SECOND = 150; // publishes per second, over the three channels
const SCALE_MESSAGES = 450;

type Published = Outcome & { readonly channel: string; readonly answeredIn: number };
type Acked = Published & { readonly reply: { readonly offset: number; readonly epoch: string } };

describe('three instances on a 3-master Redis Cluster with replicas (Node, Bun, Deno)', () => {
  let cluster: RedisCluster;
  let instances: Instance[] = [];
  let subscribers: TestSocket[] = [];
  let publisher: TestSocket;
  /** One channel per master, in the order of the masters they live on. */
  let channels: string[] = [];

  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
    const args = [
      '--redis-url',
      cluster.url,
      '--config',
      namespacesConfig(),
      ...OPEN_LIMITS,
      '--max-connections-per-user',
      '1000',
      '--demo-users',
      demoUsers(['pub', 'sub']),
    ];
    instances = await startAll(['node', 'bun', 'deno'], args);
    await Promise.all(instances.map((instance) => waitForReady(instance, 200, 20_000)));
    channels = pickChannels(await cluster.nodes());
    const [A, B, C] = instances as [Instance, Instance, Instance];
    subscribers = [...(await sockets(B, 'sub', PER_INSTANCE)), ...(await sockets(C, 'sub', PER_INSTANCE))];
    for (const socket of subscribers) for (const channel of channels) await subscribeAt(socket, channel);
    publisher = (await sockets(A, 'pub', 1))[0]!;
  });

  after(async () => {
    for (const socket of [...subscribers, publisher]) socket?.raw.terminate();
    await Promise.all(instances.map((instance) => instance.server.stop()));
    await cluster?.stop();
  });

  it(`scale: ${SCALE_MESSAGES} publishes over three shards, every ok delivered once, in order, on both subscribing instances`, async () => {
    const outcomes = await publishRoundRobin(publisher, channels, SCALE_MESSAGES, PER_SECOND);
    const acked = outcomes.filter(isAcked);
    assert.equal(acked.length, SCALE_MESSAGES, `every publish ok: ${JSON.stringify(outcomes.find((o) => !isAcked(o)))}`);
    for (const channel of channels) {
      const mine = acked.filter((o) => o.channel === channel);
      await untilDelivered(
        subscribers,
        channel,
        mine.map((o) => o.data),
        20_000,
      );
      assertExactlyOnceInOrder(subscribers, channel, mine);
    }
    console.log(
      `# scale: ${acked.length} ok over ${channels.length} shards; ${subscribers.length} subscribers on 2 instances; deliveries ${totalDeliveries()}`,
    );
  });

  for (let trial = 0; trial < FAILOVERS; trial++) {
    it(`failover ${trial + 1}: a master SIGKILLed under load, its replica promoted: readiness truthful, nothing hangs, every ok delivered or resynced`, async () => {
      const victim = channels[trial % channels.length]!;
      const victimSlot = slotOf(channelKeys(DEFAULT_PREFIX, victim).meta);
      const master = await cluster.masterOf(victimSlot);
      const replica = (await cluster.nodes()).find((n) => n.master === master.id && !n.failed)!;
      const seen = new Map(subscribers.map((s) => [s, s.messages.length]));
      const since = (s: TestSocket) => ({ ...s, messages: s.messages.slice(seen.get(s)) }) as TestSocket;

      // Readiness of every instance, polled from before the kill until the end.
      const readiness = instances.map(() => [] as { at: number; status: number }[]);
      let polling = true;
      const poller = (async () => {
        while (polling) {
          await Promise.all(
            instances.map(async (instance, i) => {
              const status = await get(instance, '/readyz').then(
                (r) => r.status,
                () => -1,
              );
              readiness[i]!.push({ at: Date.now(), status });
            }),
          );
          await sleep(25);
        }
      })();

      let killedAt = 0;
      let paused = false;
      let promotedAt = 0;
      let missingOnReplica: number | null = null;
      const failover = (async () => {
        await sleep(1000); // under load first
        paused = true;
        await cluster.kill(master.port);
        killedAt = Date.now();
        const promoted = await waitForPromotion(cluster, replica);
        promotedAt = Date.now();
        // What the promoted replica holds of the victim, before any append there starts a new epoch.
        const [, top, writer] = (await cluster.cli(promoted.port, 'hmget', channelKeys(DEFAULT_PREFIX, victim).meta, 'e', 's', 'w'))
          .trim()
          .split('\n');
        assert.equal(writer, master.id, 'read before the new master appended');
        missingOnReplica = Number(top);
        paused = false;
      })();
      const outcomes = await publishRoundRobin(publisher, channels, 900, PER_SECOND, (channel) => paused && channel === victim);
      await failover;
      await Promise.all(instances.map((instance) => waitForReady(instance, 200, 20_000)));
      polling = false;
      await poller;

      // Nothing hangs: every publish was answered, none took long.
      const slowest = Math.max(...outcomes.map((o) => o.answeredIn));
      assert.ok(slowest < 5_000, `slowest publish answer ${slowest} ms`);
      // Readiness: every instance said 503 after the kill and 200 again only after the promotion.
      for (const [i, samples] of readiness.entries()) {
        const after = samples.filter((s) => s.at >= killedAt);
        const firstDown = after.find((s) => s.status !== 200);
        assert.ok(firstDown !== undefined, `${instances[i]!.name}: /readyz never left 200 after the kill`);
        const down = samples.filter((s) => s.at > firstDown.at);
        const backUp = down.find((s) => s.status === 200);
        assert.ok(backUp !== undefined && backUp.at >= promotedAt - 100, `${instances[i]!.name}: 200 again before the promotion`);
        assert.ok(
          down.filter((s) => s.at < promotedAt - 100).every((s) => s.status !== 200),
          `${instances[i]!.name}: 200 between the kill and the promotion`,
        );
      }

      const acked = outcomes.filter(isAcked);
      const refused = outcomes.filter((o) => !isAcked(o));
      const lines: string[] = [];
      for (const channel of channels) {
        const mine = acked.filter((o) => o.channel === channel);
        const epochs = [...new Set(mine.map((o) => o.reply.epoch))];
        await untilDelivered(
          subscribers,
          channel,
          mine.filter((o) => o.reply.epoch === epochs.at(-1)).map((o) => o.data),
          20_000,
        );
        const resyncs = subscribers.map((s) => since(s).messages.filter((m) => m.type === 'resync' && m.channel === channel));
        if (channel !== victim) {
          assert.equal(epochs.length, 1, `${channel} (not on the failed shard) kept its epoch`);
          assert.ok(
            resyncs.every((r) => r.length === 0),
            `${channel}: nobody resynced`,
          );
          assertExactlyOnceInOrder(subscribers.map(since), channel, mine);
          continue;
        }
        const last = epochs.at(-1)!;
        assert.equal(epochs.length, 2, `${victim}: a new epoch after the failover (${epochs.join(', ')})`);
        for (const [n, r] of resyncs.entries())
          assert.deepEqual(
            r.map((m) => m.epoch),
            [last],
            `subscriber ${n}: one resync, with the new epoch`,
          );
        assertExactlyOnceInOrder(
          subscribers.map(since),
          channel,
          mine.filter((o) => o.reply.epoch === last),
        );
        const old = mine.filter((o) => o.reply.epoch !== last);
        const maxAcked = Math.max(...old.map((o) => o.reply.offset));
        const undelivered = old.filter((o) => subscribers.some((s) => !delivered(s, channel).some(([d]) => d === o.data))).length;
        lines.push(
          `victim ${channel}: ${old.length} ok before the kill (last offset ${maxAcked}), the promoted replica held ${missingOnReplica} ` +
            `(${maxAcked - (missingOnReplica ?? 0)} acknowledged publications lost to async replication); ${undelivered} of the old epoch's ok not delivered everywhere (told by resync)`,
        );
      }
      const downFor = readiness.map((samples) => {
        const downs = samples.filter((s) => s.at >= killedAt && s.status !== 200);
        return downs.length === 0 ? 0 : downs.at(-1)!.at - downs[0]!.at;
      });
      console.log(
        `# failover ${trial + 1}: promoted ${promotedAt - killedAt} ms after the kill; /readyz 503 for ${downFor.join('/')} ms (A/B/C); ` +
          `${acked.length} ok, ${refused.length} refused (${[...new Set(refused.map((o) => o.reply))].join(', ')}); slowest answer ${slowest} ms\n# ${lines.join('\n# ')}`,
      );
      for (const socket of [...subscribers, publisher]) assert.equal(socket.closedAt, undefined, 'every socket stayed open');
      // The killed master comes back as a replica of the promoted one: the next failover has a replica to promote.
      await cluster.restart(master.port);
      await cluster.settled();
    });
  }

  it('no instance logged an unhandled error or a secret', () => {
    for (const instance of instances) assertCleanOutput(instance, issuedSecrets);
  });

  const totalDeliveries = () => subscribers.reduce((n, s) => n + channels.reduce((m, c) => m + delivered(s, c).length, 0), 0);
});

const isAcked = (o: Published): o is Acked => typeof o.reply !== 'string';

/** The first `chat:shard-…` channel found on each master, in master order. */
function pickChannels(nodes: readonly ClusterNodeInfo[]): string[] {
  const masters = nodes.filter((n) => n.role === 'master' && !n.failed);
  const found = new Map<string, string>();
  for (let i = 0; found.size < masters.length; i++) {
    const channel = `chat:shard-${i}`;
    const slot = slotOf(channelKeys(DEFAULT_PREFIX, channel).meta);
    const owner = masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!;
    if (!found.has(owner.id)) found.set(owner.id, channel);
  }
  return [...found.values()];
}

/** Waits until `replica` is a master serving slots (the cluster promoted it). */
async function waitForPromotion(cluster: RedisCluster, replica: ClusterNodeInfo): Promise<ClusterNodeInfo> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const node = (await cluster.nodes().catch(() => [])).find((n) => n.id === replica.id);
    if (node !== undefined && node.role === 'master' && node.slots.length > 0) return node;
    if (Date.now() > deadline) throw new Error('the replica was not promoted within 15 s');
    await sleep(20);
  }
}

/**
 * Publishes the numbers 1..count round-robin over `channels` at `perSecond` (pipelined, not waiting
 * for replies), skipping a turn while `skip(channel)`; then waits for every reply.
 */
async function publishRoundRobin(
  socket: TestSocket,
  channels: readonly string[],
  count: number,
  perSecond: number,
  skip: (channel: string) => boolean = () => false,
): Promise<Published[]> {
  const started = Date.now();
  const sent = new Map<number, { channel: string; at: number }>();
  const tag = `rr${Math.random().toString(36).slice(2, 8)}-`;
  const replies = new Map<number, { message: Record<string, unknown>; at: number }>();
  // Stamped as they arrive (the send loop runs meanwhile).
  const onMessage = (data: unknown) => {
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    if (typeof m.id === 'string' && m.id.startsWith(tag)) replies.set(Number(m.id.slice(tag.length)), { message: m, at: Date.now() });
  };
  socket.raw.on('message', onMessage);
  try {
    for (let i = 1; i <= count; i++) {
      const due = started + ((i - 1) * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const channel = channels[(i - 1) % channels.length]!;
      if (skip(channel)) continue;
      sent.set(i, { channel, at: Date.now() });
      socket.send({ type: 'publish', id: `${tag}${i}`, channel, data: i });
    }
    const deadline = Date.now() + 30_000;
    while (replies.size < sent.size) {
      if (Date.now() > deadline) throw new Error(`only ${replies.size} of ${sent.size} publishes answered`);
      await sleep(10);
    }
  } finally {
    socket.raw.off('message', onMessage);
  }
  return [...sent].map(([data, { channel, at }]) => {
    const { message: r, at: answered } = replies.get(data)!;
    const reply = r.type === 'ok' ? { offset: r.offset as number, epoch: r.epoch as string } : String(r.code);
    return { data, channel, reply, at, answeredIn: answered - at };
  });
}
