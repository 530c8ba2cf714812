/**
 * Sharded pub/sub on a Redis Cluster (SSUBSCRIBE, Redis ≥ 7): a channel's messages exist only on the
 * master that owns its slot, so this instance keeps one subscriber connection per master and
 * subscribes each channel on its owner. Not ioredis's `shardedSubscribers`: after a topology change
 * it resubscribes fire-and-forget, logs a failure at debug level only, and tells nobody which
 * channels went unsubscribed for a while, while a stream reader must know that to read back what it
 * missed. Here each channel has a state; when it was subscribed, then was not (its connection
 * dropped, its slot moved — a MOVED reply, or Redis's own SUNSUBSCRIBE when a slot leaves a node —
 * or its master failed over), it is named in `resumed` once it is subscribed on its owner again.
 * The slot map is the command client's (refreshed every 2 s, and at once here when something moved
 * or a connection dropped).
 */
import type { Logger } from '../../logging/logger.ts';
import { parseRedisUrl } from '../../config/redis-url.ts';
import type { Cluster, ClusterTarget, Redis } from './connect.ts';
import { createNodeRedis, describe, isReady, RedisUnavailableError, unavailable } from './connect.ts';
import { slotOf } from './slot.ts';
import type { Subscriber, SubscriberEvents, SubscriberOptions } from './subscriber.ts';

interface Channel {
  readonly name: string;
  readonly slot: number;
  /** The master it is subscribed on, being subscribed on, or waiting for. */
  node: string;
  state: 'subscribing' | 'subscribed' | 'waiting';
  /** It was subscribed, then not: named in `resumed` once it is again. */
  missed: boolean;
  /** Bumped by every SSUBSCRIBE sent for it, so a late reply of an older one changes nothing. */
  attempt: number;
  /** The first subscription's confirmation, shared by every add() until it settles. */
  first: Promise<void> | null;
}

interface Link {
  readonly node: string;
  readonly client: Redis;
  readonly channels: Set<Channel>;
  /** Ready, and every channel of the node was sent again after the last (re)connect. */
  restored: boolean;
  /** Bumped on every close, so a late restore cannot mark a newer connection restored. */
  generation: number;
}

/** Retry delays (ms) for channels waiting for their master: first, cap. */
const RETRY_MS = [100, 2000] as const;

export class ShardSubscriber implements Subscriber {
  readonly #cluster: Cluster;
  readonly #target: ClusterTarget;
  readonly #name: string;
  readonly #log: Logger;
  readonly #events: SubscriberEvents;
  readonly #channels = new Map<string, Channel>();
  readonly #links = new Map<string, Link>();
  /** Wanted channels that are not subscribed: the subscriber is unhealthy while any is here. */
  readonly #waiting = new Set<Channel>();
  /** The masters of the last slot map. */
  #masters = new Set<string>();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryDelay: number = RETRY_MS[0];
  #resumedNow: string[] = [];
  #closed = false;
  readonly #onRefresh = () => this.#reconcile();

  constructor(options: SubscriberOptions, cluster: Cluster) {
    const target = parseRedisUrl(options.url);
    if (target.kind !== 'cluster') throw new RangeError('a sharded subscriber needs a redis+cluster:// URL');
    this.#cluster = cluster;
    this.#target = target;
    this.#name = options.name;
    this.#log = options.logger;
    this.#events = options.events;
    cluster.on('refresh', this.#onRefresh);
    this.#reconcile();
  }

  get healthy(): boolean {
    if (this.#closed || this.#masters.size === 0 || this.#waiting.size > 0) return false;
    for (const node of this.#masters) {
      const link = this.#links.get(node);
      if (link === undefined || !link.restored || !isReady(link.client)) return false;
    }
    return true;
  }

  add(name: string): Promise<void> {
    if (this.#closed) return Promise.reject(new RedisUnavailableError('subscriber closed'));
    const known = this.#channels.get(name);
    if (known !== undefined) {
      if (known.first !== null) return known.first;
      if (known.state === 'subscribed') return Promise.resolve();
      return Promise.reject(new RedisUnavailableError('subscriber')); // its master is out of reach now
    }
    const slot = slotOf(name);
    const node = this.#cluster.slots[slot]?.[0];
    const link = node === undefined ? undefined : this.#links.get(node);
    // Until the owner's connection is up and restored, a new channel could miss messages: refuse it.
    if (node === undefined || link === undefined || !link.restored || !isReady(link.client))
      return Promise.reject(new RedisUnavailableError('subscriber'));
    const channel: Channel = { name, slot, node, state: 'waiting', missed: false, attempt: 0, first: null };
    this.#channels.set(name, channel);
    link.channels.add(channel);
    const first = this.#subscribe(link, channel);
    channel.first = first;
    const settled = () => {
      if (channel.first === first) channel.first = null;
    };
    first.then(settled, settled);
    return first;
  }

  remove(name: string): void {
    const channel = this.#channels.get(name);
    if (channel === undefined) return;
    this.#channels.delete(name);
    this.#waiting.delete(channel);
    channel.attempt += 1;
    const link = this.#links.get(channel.node);
    link?.channels.delete(channel);
    // Commands on one connection run in order, so an SSUBSCRIBE sent after this one still wins.
    if (link !== undefined && isReady(link.client)) this.#send(link, 'sunsubscribe', name);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#cluster.off('refresh', this.#onRefresh);
    this.#channels.clear();
    this.#waiting.clear();
    await Promise.all([...this.#links.values()].map((link) => this.#drop(link)));
  }

  /** Sends SSUBSCRIBE on the link; the channel is subscribed when it answers, waiting otherwise. Rejects with the reason. */
  async #subscribe(link: Link, channel: Channel): Promise<void> {
    const attempt = ++channel.attempt;
    channel.state = 'subscribing';
    this.#waiting.delete(channel);
    try {
      await link.client.ssubscribe(channel.name);
    } catch (error) {
      if (attempt === channel.attempt && this.#channels.get(channel.name) === channel) {
        this.#wait(channel);
        // MOVED: the map is behind (a migration, a failover); the next refresh moves the channel.
        if (describe(error).includes('MOVED')) this.#refreshSoon();
      }
      throw unavailable('subscriber', error);
    }
    if (attempt !== channel.attempt || this.#channels.get(channel.name) !== channel) return;
    channel.state = 'subscribed';
    if (!channel.missed) return;
    channel.missed = false;
    this.#resumed(channel.name);
  }

  /** Names resumed in one tick go out together (a restore resubscribes a node's channels at once). */
  #resumed(name: string): void {
    this.#resumedNow.push(name);
    if (this.#resumedNow.length > 1) return;
    queueMicrotask(() => {
      const names = this.#resumedNow;
      this.#resumedNow = [];
      if (!this.#closed) this.#events.resumed(names);
    });
  }

  /** The channel is not subscribed now; retried until it is. */
  #wait(channel: Channel): void {
    if (channel.state === 'subscribed') channel.missed = true;
    channel.state = 'waiting';
    this.#waiting.add(channel);
    this.#scheduleRetry();
  }

  /** Follows the slot map: a connection per master, each channel on its slot's master. */
  #reconcile(): void {
    if (this.#closed) return;
    const slots = this.#cluster.slots;
    const masters = new Set<string>();
    for (let slot = 0; slot < 16384; slot++) {
      const node = slots[slot]?.[0];
      if (node !== undefined) masters.add(node);
    }
    if (masters.size === 0) return; // no map yet: the first 'refresh' brings it
    this.#masters = masters;
    for (const node of masters) if (!this.#links.has(node)) this.#connect(node);
    for (const channel of this.#channels.values()) {
      const owner = slots[channel.slot]?.[0];
      if (owner !== undefined && owner !== channel.node) this.#move(channel, owner);
    }
    for (const link of this.#links.values()) if (!masters.has(link.node) && link.channels.size === 0) void this.#drop(link);
  }

  /** The channel's slot has another master now: unsubscribe it from the old one, subscribe it on the new. */
  #move(channel: Channel, owner: string): void {
    const from = this.#links.get(channel.node);
    from?.channels.delete(channel);
    if (from !== undefined && channel.state !== 'waiting' && isReady(from.client)) this.#send(from, 'sunsubscribe', channel.name);
    channel.attempt += 1; // a reply from the old master no longer counts
    this.#wait(channel);
    channel.node = owner;
    const to = this.#links.get(owner)!;
    to.channels.add(channel);
    if (to.restored && isReady(to.client)) this.#subscribe(to, channel).catch(() => {}); // a failure waits and retries
  }

  #connect(node: string): void {
    const colon = node.lastIndexOf(':');
    const client = createNodeRedis(
      this.#target,
      { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) },
      { name: this.#name, logger: this.#log },
    );
    const link: Link = { node, client, channels: new Set(), restored: false, generation: 0 };
    this.#links.set(node, link);
    client.on('smessage', (channel: string, payload: string) => this.#events.message(channel, payload));
    client.on('ready', () => void this.#restore(link));
    client.on('close', () => this.#lost(link));
    // ioredis emits 'moved' for a MOVED reply and for a SUNSUBSCRIBE Redis sent by itself (a slot left this node).
    client.on('moved', () => this.#suspect(link));
  }

  /** On every (re)connect: subscribe each of the node's channels again (one SSUBSCRIBE per slot's channel). */
  async #restore(link: Link): Promise<void> {
    const generation = link.generation;
    const channels = [...link.channels];
    await Promise.allSettled(channels.map((channel) => this.#subscribe(link, channel)));
    if (generation !== link.generation || this.#closed || this.#links.get(link.node) !== link) return;
    link.restored = true;
    if (channels.length > 0) this.#log.info({ node: link.node, channels: channels.length }, 'shard subscriptions restored');
  }

  /** The connection dropped: its channels wait; the node may be gone (a failover), so look at the map soon. */
  #lost(link: Link): void {
    link.generation += 1;
    link.restored = false;
    if (this.#links.get(link.node) !== link) return;
    for (const channel of link.channels) {
      channel.attempt += 1;
      this.#wait(channel);
    }
    this.#refreshSoon();
  }

  /**
   * Something moved away from this node. Redis may have unsubscribed some of its channels (it does
   * not say which to ioredis's listeners): send every one again once the map is fresh. Those whose
   * slot moved answer MOVED and follow the map; the others are counted as missed meanwhile.
   */
  #suspect(link: Link): void {
    if (this.#links.get(link.node) !== link) return;
    for (const channel of link.channels) {
      if (channel.state !== 'subscribed') continue;
      channel.attempt += 1;
      this.#wait(channel);
    }
    this.#refreshSoon();
  }

  #send(link: Link, command: 'sunsubscribe', channel: string): void {
    link.client[command](channel).catch((error: unknown) => {
      this.#log.debug({ node: link.node, err: describe(error) }, `${command} failed`);
    });
  }

  async #drop(link: Link): Promise<void> {
    if (this.#links.get(link.node) === link) this.#links.delete(link.node);
    link.generation += 1;
    link.restored = false;
    link.client.removeAllListeners('smessage');
    link.client.disconnect(false);
  }

  #refreshSoon(): void {
    this.#scheduleRetry(0);
  }

  /** While channels wait: refresh the map (which reconciles), then send each waiting one to its master again, with backoff. */
  #scheduleRetry(delay: number = this.#retryDelay): void {
    if (this.#closed) return;
    if (this.#retry !== undefined) {
      if (delay > 0) return;
      clearTimeout(this.#retry);
    }
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#cluster.refreshSlotsCache(() => this.#retryWaiting());
    }, delay);
  }

  #retryWaiting(): void {
    if (this.#closed) return;
    this.#reconcile(); // also done by 'refresh' when the map came back; harmless twice
    for (const channel of [...this.#waiting]) {
      const link = this.#links.get(channel.node);
      if (channel.state === 'waiting' && link !== undefined && link.restored && isReady(link.client))
        this.#subscribe(link, channel).catch(() => {});
    }
    const unsettled = this.#waiting.size > 0 || [...this.#masters].some((node) => !this.#links.get(node)?.restored);
    if (!unsettled) {
      this.#retryDelay = RETRY_MS[0];
      return;
    }
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MS[1]);
    this.#scheduleRetry();
  }
}
