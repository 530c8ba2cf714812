/**
 * The library's `channelHandlers`: the channel messages with safe, simple defaults — the stream
 * and presence in this process, and no namespace with history or presence until the app names
 * one (every channel is live only: nothing a client publishes is kept unless asked for).
 */
import { MemoryPresence } from '../backends/memory/presence.ts';
import { MemoryStream } from '../backends/memory/stream.ts';
import type { Broker } from '../channels/broker.ts';
import { channelHandlers as coreChannelHandlers, type ChannelOptions } from '../channels/channel-handlers.ts';
import type { ChannelService } from '../channels/channel-service.ts';
import { ChannelNamespaces, type NamespaceOptions } from '../channels/namespaces.ts';
import type { Presence } from '../channels/presence.ts';
import { MAX_HISTORY_SIZE, type Stream } from '../channels/stream.ts';
import type { Handlers } from '../core/handler.ts';

/** One namespace's options; those left out: history-ttl 5 min, history-meta-ttl 24 h, everything else off. */
export type NamespaceSettings = Partial<NamespaceOptions>;

export interface LibraryChannelOptions extends Omit<Partial<ChannelOptions>, 'namespaces'> {
  /**
   * Namespace (the part of a channel name before its first `:`) → options, e.g.
   * `{ chat: { historySize: 100, recovery: true, presence: true, joinLeave: true } }`. Default: none.
   */
  readonly namespaces?: Readonly<Record<string, NamespaceSettings>> | ChannelNamespaces;
  /** Default: `new MemoryStream()` (one process). For several instances, a `RedisStream` from `hardened-ws/redis`. */
  readonly stream?: Stream;
  /** Default: `new MemoryPresence()`. For several instances, a `RedisPresence`. */
  readonly presence?: Presence;
  /** Join/leave events between instances (a `RedisBroker`); default: this instance's subscribers only. */
  readonly events?: Broker;
  readonly service?: ChannelService;
}

const DEFAULTS: NamespaceOptions = Object.freeze({
  historySize: 0,
  historyTtl: 300_000,
  historyMetaTtl: 86_400_000,
  recovery: false,
  presence: false,
  joinLeave: false,
  proxy: 'off',
});

/** subscribe, unsubscribe, publish, history, presence, presence_stats; spread them into `handlers`. */
export function channelHandlers(options: LibraryChannelOptions = {}): Handlers {
  const namespaces = options.namespaces instanceof ChannelNamespaces ? options.namespaces : namespaceTable(options.namespaces ?? {});
  return coreChannelHandlers({
    ...options,
    stream: options.stream ?? new MemoryStream(),
    presence: options.presence ?? new MemoryPresence(),
    namespaces,
  });
}

/** The table with defaults filled in and every value checked (a mistake throws at start, not at the first publish). */
export function namespaceTable(settings: Readonly<Record<string, NamespaceSettings>>): ChannelNamespaces {
  const table: [string, NamespaceOptions][] = [];
  for (const [name, given] of Object.entries(settings)) {
    if (!/^[A-Za-z0-9_\-.@]{1,64}$/.test(name))
      throw new RangeError(`namespace ${JSON.stringify(name.slice(0, 40))}: 1-64 of A-Z a-z 0-9 _ - . @`);
    const o = { ...DEFAULTS, ...given };
    const whole = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
    if (!whole(o.historySize, 0, MAX_HISTORY_SIZE)) throw new RangeError(`namespace ${name}: historySize is 0..${MAX_HISTORY_SIZE}`);
    if (!whole(o.historyTtl, 1000, 30 * 86_400_000)) throw new RangeError(`namespace ${name}: historyTtl is 1 s..30 days (ms)`);
    if (!whole(o.historyMetaTtl, o.historyTtl, 365 * 86_400_000))
      throw new RangeError(`namespace ${name}: historyMetaTtl is historyTtl..365 days (ms)`);
    if (o.recovery && o.historySize === 0) throw new RangeError(`namespace ${name}: recovery needs historySize > 0`);
    table.push([name, Object.freeze(o)]);
  }
  // fromEntries defines own properties: a namespace named `__proto__` stays a namespace.
  return new ChannelNamespaces(Object.fromEntries(table));
}
