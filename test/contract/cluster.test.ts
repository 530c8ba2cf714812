/**
 * Every Redis contract (stream, presence, broker, tickets, sessions, per-user cap) against a real
 * 3-master Redis Cluster started on loopback (`redis+cluster://…`), then what only a cluster can
 * show: our slot function agrees with Redis, a channel's keys and notifications live on one master
 * and channels spread over all three, the scripts are refused if they stray from their slot, and a
 * channel's slot migrated to another master under publish load (MOVED, ASK, TRYAGAIN, Redis's own
 * SUNSUBSCRIBE) loses nothing, repeats nothing, and keeps its epoch.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBroker } from '../../src/backends/redis/broker.ts';
import { channelKeys } from '../../src/backends/redis/keys.ts';
import { LuaScript } from '../../src/backends/redis/lua-script.ts';
import { createRedis, closeRedis, isReady, type Cluster } from '../../src/backends/redis/connect.ts';
import { RedisPresence } from '../../src/backends/redis/presence.ts';
import { RedisSessionStore } from '../../src/backends/redis/session-store.ts';
import { slotOf } from '../../src/backends/redis/slot.ts';
import { RedisStream } from '../../src/backends/redis/stream.ts';
import { createSubscriber } from '../../src/backends/redis/subscribers.ts';
import { append } from '../../src/backends/redis/stream-scripts.ts';
import { RedisTicketStore } from '../../src/backends/redis/ticket-store.ts';
import { RedisUserConnections } from '../../src/backends/redis/user-connections.ts';
import { ChannelFeed } from '../../src/channels/channel-feed.ts';
import type { Position } from '../../src/channels/stream.ts';
import type { HandlerContext } from '../../src/core/handler.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { OutboundMessage } from '../../src/protocol/messages.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { unhandledRejectionTripwire, waitFor } from '../support/redis-server.ts';
import { brokerContract } from './broker.contract.ts';
import { twoInstances, whenHealthy } from './fixture.ts';
import { presenceContract } from './presence.contract.ts';
import { sessionStoreContract } from './session-store.contract.ts';
import { fresh, listen, policy, streamContract } from './stream.contract.ts';
import { ticketStoreContract } from './ticket-store.contract.ts';
import { userConnectionsContract } from './user-connections.contract.ts';

const tripwire = unhandledRejectionTripwire();
afterEach(() => tripwire.assertNone());

let cluster: RedisCluster;
before(async () => {
  cluster = await startRedisCluster({ masters: 3 });
});
after(async () => {
  await cluster?.stop();
});

let n = 0;
const prefix = () => `k${process.pid}-${++n}:`;
const NAME = 'redis cluster (two instances, three masters)';

const stream = (p: string) => whenHealthy(new RedisStream({ url: cluster.url, prefix: p }), 'stream healthy');
/** The contracts' pair: two instances of a Redis backend on the cluster under one fresh key prefix, each once healthy. */
const pairOn =
  <T extends { readonly healthy: boolean; close(): Promise<void> }>(Backend: new (o: { url: string; prefix: string }) => T, what: string) =>
  () => {
    const p = prefix();
    return twoInstances(() => whenHealthy(new Backend({ url: cluster.url, prefix: p }), what));
  };
streamContract(NAME, pairOn(RedisStream, 'stream healthy'));
presenceContract(NAME, pairOn(RedisPresence, 'presence healthy'));
brokerContract(NAME, pairOn(RedisBroker, 'broker healthy'));
ticketStoreContract(NAME, pairOn(RedisTicketStore, 'tickets healthy'));
sessionStoreContract(NAME, pairOn(RedisSessionStore, 'sessions healthy'));
userConnectionsContract(NAME, pairOn(RedisUserConnections, 'counter healthy'));

describe('Redis Cluster specifics', () => {
  it('slotOf agrees with CLUSTER KEYSLOT (hash tags, empty tags, UTF-8)', async () => {
    const names = [
      'hws:n:{chat:1}',
      'plain',
      '{}x',
      'a{}{b}',
      '{a}{b}',
      'x{y',
      'x}y{z}',
      'héllo:{✓}',
      'ch:$hws.control',
      `u:${'z'.repeat(300)}`,
    ];
    for (const name of names) {
      const expected = Number((await cluster.cli(cluster.ports[0]!, 'cluster', 'keyslot', name)).trim());
      assert.equal(slotOf(name), expected, name);
    }
  });

  it("a channel's stream, position, notifications and presence live on one master; channels spread over all three", async () => {
    const p = prefix();
    const [a, b] = [await stream(p), await stream(p)];
    const presence = await whenHealthy(new RedisPresence({ url: cluster.url, prefix: p }), 'presence healthy');
    try {
      const owners = new Set<number>();
      for (let i = 0; i < 12; i++) {
        const channel = fresh();
        const heard = await listen(b, channel);
        await a.publish(channel, { data: i, from: 'a' }, policy());
        await presence.join(channel, { sub: 'u', connectionId: `c${i}` });
        await waitFor(() => heard.got.length === 1);
        const keys = channelKeys(p, channel);
        const slots = new Set(
          [keys.stream, keys.meta, keys.notify, keys.presenceLeases, keys.presenceEntries, keys.presenceOwners, keys.presenceUsers].map(
            slotOf,
          ),
        );
        assert.equal(slots.size, 1, 'one slot');
        const master = await cluster.masterOf([...slots][0]!);
        owners.add(master.port);
        // Stored there, and b's SSUBSCRIBE is there: sharded pub/sub counts per master.
        const exists = await cluster.cli(master.port, 'exists', keys.stream, keys.meta, keys.presenceLeases);
        assert.equal(exists.trim(), '3');
        const numsub = (await cluster.cli(master.port, 'pubsub', 'shardnumsub', keys.notify)).trim().split('\n');
        assert.equal(numsub[1], '1', `${channel}: ${numsub.join(' ')}`);
        heard.stop();
      }
      assert.equal(owners.size, 3, 'twelve channels landed on all three masters');
    } finally {
      await Promise.all([a.close(), b.close(), presence.close()]);
    }
  });

  it('a script that touches a key outside its slot is refused by Redis (the #!lua check every script runs under)', async () => {
    const client = createRedis({ url: cluster.url });
    try {
      await waitFor(() => client.status === 'ready', 3000, 'cluster client ready');
      const script = new LuaScript(append('single'), append('cluster'));
      const p = prefix();
      const mine = channelKeys(p, 'chat:mine');
      // The notify channel of another channel whose slot is on the same master: only the slot check catches it.
      let other = 'chat:other-0';
      const owner = async (name: string) => (await cluster.masterOf(slotOf(name))).port;
      for (
        let i = 1;
        (await owner(channelKeys(p, other).meta)) !== (await owner(mine.meta)) || slotOf(channelKeys(p, other).meta) === slotOf(mine.meta);
        i++
      )
        other = `chat:other-${i}`;
      const args = ['{"from":"a","data":1}', 10, 60_000, 120_000, 'e1', channelKeys(p, other).notify];
      await assert.rejects(script.run(client, [mine.stream, mine.meta], args), /do not hash to the same slot/);
      // Refused at the straying call (SPUBLISH): a script is not rolled back, so what it wrote before stays (offset 1).
      const reply = (await script.run(client, [mine.stream, mine.meta], [...args.slice(0, 5), mine.notify])) as [number, string];
      assert.equal(reply[0], 2, 'the same script with its own channel runs');
    } finally {
      await closeRedis(client);
    }
  });

  it('a channel last written by a master that is gone (a promoted replica lacking acknowledged writes) starts a new epoch: resync, never a reused offset', async () => {
    const p = prefix();
    const [a, b] = [await stream(p), await stream(p)];
    const admin = createRedis({ url: cluster.url });
    try {
      await waitFor(() => admin.status === 'ready', 3000, 'cluster client ready');
      const channel = fresh();
      const feed = new ChannelFeed(channel, policy(), { stream: b, logger: silentLogger, retryMs: [50, 500] });
      await feed.ready;
      const delivered: OutboundMessage[] = [];
      const ctx = { connectionId: 'c1', closed: false, send: (m: OutboundMessage) => delivered.push(m) } as unknown as HandlerContext;
      const member = { ctx, last: feed.position.offset, live: false, resynced: false, grouped: false };
      feed.members.add(member);
      feed.goLive(member);
      const first = [];
      for (let i = 1; i <= 5; i++) first.push((await a.publish(channel, { data: i, from: 'a' }, policy()))!);
      await waitFor(() => delivered.length === 5, 3000, 'five delivered');
      // What a replica promoted after its master died may hold: the master's id as writer, and not the last two writes.
      const meta = channelKeys(p, channel).meta;
      const streamKey = channelKeys(p, channel).stream;
      await admin.xdel(streamKey, '4-0', '5-0');
      await admin.call('XSETID', streamKey, '3-0');
      await admin.hset(meta, 's', '3', 'w', 'f'.repeat(40));
      const next = (await a.publish(channel, { data: 6, from: 'a' }, policy()))!;
      assert.notEqual(next.epoch, first[0]!.epoch, 'a new epoch');
      assert.equal(next.offset, 1, 'offsets start again: 4 and 5 were handed out already');
      await waitFor(() => delivered.length === 7, 3000, 'resync and the new publication');
      assert.deepEqual(
        delivered.slice(5).map((m) => {
          const { type, epoch, offset } = m as { type: string; epoch?: string; offset?: number };
          return [type, epoch, offset];
        }),
        [
          ['resync', next.epoch, undefined],
          ['message', next.epoch, 1],
        ],
      );
      // A migrated slot is the other case (a healthy former writer): the next test keeps its epoch.
      feed.close();
    } finally {
      await Promise.all([a.close(), b.close(), closeRedis(admin)]);
    }
  });

  it("a channel's slot migrated to another master under publish load: every ok delivered once, in order, same epoch", async (t) => {
    const p = prefix();
    const [a, b] = [await stream(p), await stream(p)];
    const admin = new Redis({ port: cluster.ports[0], host: '127.0.0.1' });
    try {
      const channel = fresh();
      const keys = channelKeys(p, channel);
      const slot = slotOf(keys.meta);
      // The real feed over stream b: live notifications, and reads back what a moved subscription missed.
      const feed = new ChannelFeed(channel, policy(10_000), { stream: b, logger: silentLogger, retryMs: [50, 500] });
      await feed.ready;
      const delivered: OutboundMessage[] = [];
      const ctx = { connectionId: 'c1', closed: false, send: (m: OutboundMessage) => delivered.push(m) } as unknown as HandlerContext;
      const member = { ctx, last: feed.position.offset, live: false, resynced: false, grouped: false };
      feed.members.add(member);
      feed.goLive(member);
      const heard = await listen(b, channel);
      const source = await cluster.masterOf(slot);
      const target = (await cluster.nodes()).find((node) => node.role === 'master' && node.id !== source.id)!;
      const acked: Position[] = [];
      const refused: string[] = [];
      let publishing = true;
      let i = 0;
      const publisher = (async () => {
        while (publishing) {
          try {
            acked.push((await a.publish(channel, { data: ++i, from: 'a' }, policy(10_000)))!);
          } catch (error) {
            refused.push(String((error as { code?: string }).code));
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await waitFor(() => acked.length >= 50, 5000, 'publishing');
      // The migration redis-cli --cluster reshard performs, one slot: IMPORTING, MIGRATING, MIGRATE the keys, NODE.
      const cli = (port: number, ...args: string[]) => cluster.cli(port, ...args);
      await cli(target.port, 'cluster', 'setslot', String(slot), 'importing', source.id);
      await cli(source.port, 'cluster', 'setslot', String(slot), 'migrating', target.id);
      for (;;) {
        const inSlot = (await cli(source.port, 'cluster', 'getkeysinslot', String(slot), '100')).split('\n').filter(Boolean);
        if (inSlot.length === 0) break;
        await cli(source.port, 'migrate', '127.0.0.1', String(target.port), '', '0', '5000', 'keys', ...inSlot);
      }
      for (const node of await cluster.nodes())
        if (node.role === 'master') await cli(node.port, 'cluster', 'setslot', String(slot), 'node', target.id);
      const movedAt = acked.length;
      await waitFor(() => acked.length >= movedAt + 50, 10_000, 'publishing on the new master');
      publishing = false;
      await publisher;
      const offsets = () => delivered.filter((m) => m.type === 'message').map((m) => (m as unknown as { offset: number }).offset);
      await waitFor(() => offsets().length >= acked.length, 10_000, 'every ok delivered');
      t.diagnostic(
        `${acked.length} ok (${movedAt} before the slot moved), ${refused.length} refused (${[...new Set(refused)].join(',')}); resumed ${heard.resumed()}×`,
      );
      assert.equal((await cluster.masterOf(slot)).id, target.id, 'the slot moved');
      assert.equal(new Set(acked.map((pos) => pos.epoch)).size, 1, 'one epoch: a migration loses nothing');
      assert.deepEqual(
        offsets(),
        acked.map((pos) => pos.offset),
        'every ok once, in order (what the move cost read back by the feed)',
      );
      assert.equal(delivered.filter((m) => m.type === 'resync').length, 0, 'no resync');
      feed.close();
      assert.ok(heard.resumed() >= 1, 'the listener was told to catch up after its subscription moved');
      assert.ok(a.healthy && b.healthy);
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a shard channel removed while its SSUBSCRIBE is in flight and added again is subscribed on its master', async () => {
    const commands = createRedis({ url: cluster.url });
    const got: string[] = [];
    const subscriber = createSubscriber({
      url: cluster.url,
      commands,
      name: 'hws-test-sub',
      logger: silentLogger,
      events: { message: (_channel, payload) => got.push(payload), resumed: () => {} },
    });
    try {
      // The command client's connection to every master too (no offline queue: a command for a node still connecting fails).
      await waitFor(() => subscriber.healthy && isReady(commands), 5000, 'subscriber and command client ready');
      const channel = `${prefix()}ch:again`;
      const first = subscriber.add(channel); // SSUBSCRIBE in flight
      subscriber.remove(channel); // SUNSUBSCRIBE queued behind it
      await subscriber.add(channel);
      await first;
      await (commands as Cluster).spublish(channel, 'one');
      await waitFor(() => got.length === 1, 2000, 'the message on the channel added again');
      assert.deepEqual(got, ['one']);
    } finally {
      await subscriber.close();
      await closeRedis(commands);
    }
  });
});
