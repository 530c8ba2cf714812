/**
 * The stream on Redis: one Redis Stream per channel (`XADD … MAXLEN ~ size`, expiring `ttl` after
 * the last publication) and a position hash (epoch, latest offset) beside it, both under the
 * channel's hash tag, so on a Redis Cluster a channel lives on one shard. Appending and notifying
 * every instance is one Lua script (stream-scripts.ts); live notifications come through
 * RedisNotifications. Commands go on a command connection (shared or owned); notifications on
 * subscriber connections of their own (one, or one per master on a Cluster).
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import { StorageError } from '../../channels/storage-error.ts';
import type {
  HistoryPolicy,
  Position,
  Publication,
  ReadRequest,
  ReadResult,
  Stream,
  StreamListener,
  StreamPublishOptions,
} from '../../channels/stream.ts';
import { checkChannel, checkIdempotency, checkPolicy, checkRead, encodeBody, isEpochToken, newEpoch } from '../../channels/stream.ts';
import type { OwnedClient, RedisClient } from './connect.ts';
import { closeRedis, createRedis, isCluster, isReady } from './connect.ts';
import { channelKeys, checkedPrefix, idempotencyKeyOf } from './keys.ts';
import { LuaScript } from './lua-script.ts';
import { RedisNotifications } from './notifications.ts';
import { abandon, append, decodeBody, liveNotification, publishOnce, read } from './stream-scripts.ts';

export interface RedisStreamOptions {
  /** Redis URL: the subscriber connection (and the command one, unless `client` is given) is made from it. */
  readonly url: string;
  /** A shared command connection (made with `createRedis`, a Cluster for a cluster URL); not closed by `close()`. */
  readonly client?: RedisClient;
  /** Key prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
}

const scripts = {
  append: new LuaScript(append('single'), append('cluster')),
  read: new LuaScript(read('single'), read('cluster')),
  publishOnce: new LuaScript(publishOnce('single'), publishOnce('cluster')),
  abandon: new LuaScript(abandon('single'), abandon('cluster')),
};

export class RedisStream implements Stream {
  readonly #cmd: OwnedClient;
  readonly #notifications: RedisNotifications;
  readonly #prefix: string;
  readonly #log: Logger;
  #closed = false;

  constructor(options: RedisStreamOptions) {
    this.#prefix = checkedPrefix(options.prefix);
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-stream' });
    const logger = options.logger;
    this.#cmd = options.client
      ? { client: options.client, owned: false }
      : { client: createRedis({ url: options.url, name: 'hws-stream', ...(logger ? { logger } : {}) }), owned: true };
    this.#notifications = new RedisNotifications({ url: options.url, commands: this.#cmd.client, prefix: this.#prefix, logger: this.#log });
  }

  get healthy(): boolean {
    return !this.#closed && isReady(this.#cmd.client) && this.#notifications.healthy;
  }

  async publish(
    channel: string,
    message: { readonly data: unknown; readonly from: string },
    history: HistoryPolicy | null,
    options?: StreamPublishOptions,
  ): Promise<Position | null> {
    this.#open();
    checkChannel(channel);
    const body = encodeBody(message);
    const once = checkIdempotency(options);
    const keys = channelKeys(this.#prefix, channel);
    const seenKey = once === null ? null : idempotencyKeyOf(this.#prefix, channel, once.key);
    if (history === null) {
      const note = liveNotification(body);
      const client = this.#cmd.client;
      if (seenKey !== null) await this.#call(() => scripts.publishOnce.run(client, [seenKey], [once!.ttlMs, keys.notify, note]));
      else await this.#call(() => (isCluster(client) ? client.spublish(keys.notify, note) : client.publish(keys.notify, note)));
      return null;
    }
    checkPolicy(history);
    const args: (string | number)[] = [body, history.size, history.ttlMs, history.metaTtlMs, newEpoch(), keys.notify];
    const scriptKeys = [keys.stream, keys.meta];
    if (seenKey !== null) {
      scriptKeys.push(seenKey);
      args.push(once!.ttlMs);
    }
    const reply = await this.#call(() => scripts.append.run(this.#cmd.client, scriptKeys, args));
    const [offset, epoch] = reply as [number, string];
    return { offset, epoch };
  }

  async abandonEpoch(channel: string, epoch: string, history: HistoryPolicy): Promise<Position> {
    this.#open();
    checkChannel(channel);
    checkPolicy(history);
    if (!isEpochToken(epoch)) throw new StorageError('invalid_epoch');
    const keys = channelKeys(this.#prefix, channel);
    const reply = await this.#call(() =>
      scripts.abandon.run(this.#cmd.client, [keys.stream, keys.meta], [epoch, newEpoch(), history.metaTtlMs]),
    );
    const [offset, current] = reply as [number, string];
    return { offset, epoch: current };
  }

  async read(channel: string, request: ReadRequest, history: HistoryPolicy): Promise<ReadResult> {
    this.#open();
    checkChannel(channel);
    checkPolicy(history);
    checkRead(request);
    const keys = channelKeys(this.#prefix, channel);
    const args = [request.after, request.limit, history.size, history.metaTtlMs, newEpoch(), request.epoch ?? ''];
    const reply = await this.#call(() => scripts.read.run(this.#cmd.client, [keys.stream, keys.meta], args));
    const [top, epoch, matches, reaches, entries] = reply as [number, string, number, number, [string, string[]][]];
    const publications: Publication[] = [];
    for (const [id, fields] of entries) {
      const offset = Number(id.slice(0, id.indexOf('-')));
      const body = fields[0] === 'p' && fields[1] !== undefined ? decodeBody(fields[1]) : null;
      if (body === null) {
        // Only something else writing under our keys produces this: never deliver it.
        this.#log.warn({ channel, offset }, 'malformed stream entry skipped');
        continue;
      }
      publications.push({ channel, data: body.data, from: body.from, position: { offset, epoch } });
    }
    return { publications, position: { offset: top, epoch }, epochMatches: matches === 1, reachesBack: reaches === 1 };
  }

  async position(channel: string, history: HistoryPolicy): Promise<Position> {
    return (await this.read(channel, { after: 0, limit: 0 }, history)).position;
  }

  async subscribe(channel: string, listener: StreamListener): Promise<() => void> {
    this.#open();
    checkChannel(channel);
    return this.#notifications.subscribe(channel, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#notifications.close(), this.#cmd.owned ? closeRedis(this.#cmd.client) : undefined]);
  }

  #open(): void {
    if (this.#closed) throw new StorageError('unavailable', 'stream closed');
  }

  /** Every Redis failure (down, timeout, script error) is one answer: not stored, `unavailable`. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StorageError('unavailable', 'stream: redis unavailable', { cause: error });
    }
  }
}
