/**
 * The channel messages of DELIVERY-PROTOCOL.md — subscribe (with `since` recovery), unsubscribe,
 * publish, history, presence, presence_stats — each answered by id. A refusal is an error reply,
 * never a close. Subscriptions belong to the connection and end with it; deliveries come from one
 * feed per channel on this instance (channel-feed.ts).
 */
import { decideAccess, refusalReply, type ChannelAuthorizer } from './authorizer.ts';
import type { Broker } from './broker.ts';
import type { ChannelFeed, Member } from './channel-feed.ts';
import { ChannelFeeds } from './channel-feeds.ts';
import { readLimit, readSince } from './channel-requests.ts';
import { createChannelService, type ChannelService } from './channel-service.ts';
import { announce, type PresenceEvent } from './join-leave.ts';
import type { ChannelNamespaces } from './namespaces.ts';
import type { Presence, PresenceEntry, PresenceMember } from './presence.ts';
import { MAX_PRESENCE_INFO_BYTES, MAX_PRESENCE_LIST } from './presence.ts';
import { recover } from './recovery.ts';
import { StorageError } from './storage-error.ts';
import type { Position, Stream } from './stream.ts';
import type { Fanout } from '../core/fanout.ts';
import type { Handler, HandlerContext, Handlers } from '../core/handler.ts';
import type { GatewayObserver } from '../core/observer.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { ErrorReplyCode, InboundMessage } from '../protocol/messages.ts';
import { isValidChannel } from './names.ts';
import { isAllowed } from './permissions.ts';

export interface ChannelOptions {
  /** Live fan-out, and history with positions where the namespace keeps it. */
  readonly stream: Stream;
  readonly presence: Presence;
  /** Which channels keep history, recover, have presence and join/leave events. */
  readonly namespaces: ChannelNamespaces;
  /** Carries join/leave events between instances; without it they reach this instance's subscribers only. */
  readonly events?: Broker;
  /** Shared with the server API; default: one over `stream`, `presence` and `namespaces`. */
  readonly service?: ChannelService;
  /** Channels one connection may be subscribed to at once; default 32 (the server's `--max-channels`). */
  readonly maxChannelsPerConnection?: number;
  readonly observer?: Pick<GatewayObserver, 'published' | 'delivered' | 'resynced' | 'recovery'>;
  /** Where feeds report resyncs and failed catch-up reads. */
  readonly logger?: Logger;
  /** Delays (ms) between a feed's failed catch-up reads: first, cap. Default [250, 5000]. */
  readonly retryMs?: readonly [number, number];
  /**
   * Decides subscribes and publishes in namespaces marked `proxy` (the application's backend, through
   * src/hooks/); default: the claims decide everywhere. In a namespace whose subscribes it decides,
   * history and presence are for the connections it let subscribe.
   */
  readonly authorizer?: ChannelAuthorizer;
  /** Told this instance's subscriber count of a channel whenever it changes (the server API's `channels`). */
  readonly onSubscribers?: (channel: string, count: number) => void;
  /**
   * The runtime's own fan-out (`createFanout` over the gateway's runtime): a delivery is one call for
   * every subscriber on this instance. Without it, one send per subscriber.
   */
  readonly fanout?: Fanout;
}

/** One subscription of one connection: its place in the channel's feed, and whether its join was announced. */
interface Subscription extends Member {
  readonly feed: ChannelFeed;
  /** The subscriber's `sub` (the identity cannot be read once the socket has closed). */
  readonly who: string;
  announced: boolean;
}

/** The default of `maxChannelsPerConnection`. */
export const DEFAULT_MAX_CHANNELS = 32;

export function channelHandlers(options: ChannelOptions): Handlers {
  const { stream, presence, namespaces, events, observer, authorizer, onSubscribers } = options;
  const logger = options.logger ?? silentLogger;
  const maxChannels = options.maxChannelsPerConnection ?? DEFAULT_MAX_CHANNELS;
  const service = options.service ?? createChannelService({ stream, presence, namespaces });
  const feeds = new ChannelFeeds({
    stream,
    namespaces,
    ...(events ? { events } : {}),
    logger,
    ...(observer ? { observer } : {}),
    ...(options.retryMs ? { retryMs: options.retryMs } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
  });
  // Per connection, its subscriptions: one held as itself (the common case), more in an array
  // (at most maxChannels, so a scan is cheap). Deleted when the socket closes.
  const subscriptions = new Map<string, Subscription | Subscription[]>();

  const tell = (channel: string, event: PresenceEvent): void => {
    if (events !== undefined) announce(events, channel, event, logger);
    else feeds.get(channel)?.event(event);
  };
  // Presence entries that came or went by themselves (a killed instance's lapsed; ours written back): told like any leave or join.
  const tellAll = (type: 'join' | 'leave') => (channel: string, members: readonly PresenceMember[]) => {
    if (!namespaces.optionsFor(channel).joinLeave) return;
    for (const m of members) tell(channel, { type, sub: m.sub, conn: m.connectionId });
  };
  presence.watch?.({ lapsed: tellAll('leave'), restored: tellAll('join') });

  const listOf = (ctx: HandlerContext): readonly Subscription[] => {
    const held = subscriptions.get(ctx.connectionId);
    return held === undefined ? [] : Array.isArray(held) ? held : [held];
  };
  const find = (ctx: HandlerContext, channel: string): Subscription | undefined => listOf(ctx).find((s) => s.feed.channel === channel);

  const hold = (ctx: HandlerContext, sub: Subscription): void => {
    const held = subscriptions.get(ctx.connectionId);
    if (held === undefined) {
      subscriptions.set(ctx.connectionId, sub);
      ctx.onClose(() => {
        for (const s of [...listOf(ctx)]) drop(ctx, s);
        subscriptions.delete(ctx.connectionId);
      });
    } else if (Array.isArray(held)) held.push(sub);
    else subscriptions.set(ctx.connectionId, [held, sub]);
  };

  const release = (ctx: HandlerContext, sub: Subscription): void => {
    const held = subscriptions.get(ctx.connectionId);
    if (held === sub)
      subscriptions.set(ctx.connectionId, []); // keep the key: its onClose is registered
    else if (Array.isArray(held)) {
      const i = held.indexOf(sub);
      if (i !== -1) held.splice(i, 1);
    }
  };

  /** Ends one subscription: out of the feed, out of presence, and a leave event if its join was told. */
  const drop = (ctx: HandlerContext, sub: Subscription): void => {
    const channel = sub.feed.channel;
    release(ctx, sub);
    feeds.detach(sub.feed, sub);
    onSubscribers?.(channel, feeds.get(channel)?.members.size ?? 0);
    if (namespaces.optionsFor(channel).presence) void presence.leave(channel, ctx.connectionId);
    if (sub.announced) tell(channel, { type: 'leave', sub: sub.who, conn: ctx.connectionId });
  };

  /**
   * The channel, when the claims (or, in a `proxy` namespace, the backend) allow the action; else
   * the error reply is sent and null returned. A backend's allow may carry presence info.
   */
  const allowed = async (
    message: InboundMessage,
    ctx: HandlerContext,
    action: 'subscribe' | 'publish',
  ): Promise<{ channel: string; info?: Readonly<Record<string, unknown>> } | null> => {
    const channel = message.channel;
    if (!isValidChannel(channel)) {
      refuse(ctx, message, 'invalid_channel');
      return null;
    }
    // Already let in (by the backend, where it decides): a repeated subscribe is not asked again.
    if (action === 'subscribe' && find(ctx, channel) !== undefined) return { channel };
    const request = {
      action,
      channel,
      identity: ctx.identity,
      connectionId: ctx.connectionId,
      ...(action === 'publish' ? { data: message.data ?? null } : {}),
    };
    const decision = await decideAccess(authorizer, request);
    const refusal = refusalReply(decision, message.id);
    if (refusal !== null) {
      if (decision.kind === 'deny')
        ctx.logger.info({ action, channel, ...(decision.reason ? { reason: decision.reason } : {}) }, 'channel.forbidden');
      ctx.send(refusal);
      return null;
    }
    return decision.kind === 'allow' && decision.info !== undefined ? { channel, info: decision.info } : { channel };
  };

  /** For history and presence: the claims' subscribe permission; where the backend decides subscribes, being subscribed. */
  const checked = (message: InboundMessage, ctx: HandlerContext): string | null => {
    if (!isValidChannel(message.channel)) {
      refuse(ctx, message, 'invalid_channel');
      return null;
    }
    const ok = authorizer?.decides('subscribe', message.channel)
      ? find(ctx, message.channel) !== undefined
      : isAllowed(ctx.identity, 'subscribe', message.channel);
    if (!ok) {
      ctx.logger.info({ action: 'subscribe', channel: message.channel }, 'channel.forbidden');
      refuse(ctx, message, 'forbidden');
      return null;
    }
    return message.channel;
  };

  const subscribe: Handler = async (message, ctx) => {
    const access = await allowed(message, ctx, 'subscribe');
    if (access === null || ctx.closed) return;
    const { channel } = access;
    const ns = namespaces.optionsFor(channel);
    let since: Position | null = null;
    if (message.since !== undefined) {
      if (!ns.recovery) return refuse(ctx, message, 'recovery_disabled');
      since = readSince(message.since);
      if (since === null) return refuse(ctx, message, 'invalid_position');
    }
    const existing = find(ctx, channel);
    if (existing !== undefined) return ack(ctx, message, existing, since === null ? undefined : alreadyAt(existing, since));
    if (listOf(ctx).length >= maxChannels) return refuse(ctx, message, 'too_many_channels');

    const feed = feeds.open(channel);
    const sub: Subscription = {
      ctx,
      feed,
      who: ctx.identity.sub,
      last: 0,
      live: false,
      resynced: false,
      grouped: false,
      announced: false,
    };
    feed.members.add(sub);
    hold(ctx, sub);
    onSubscribers?.(channel, feed.members.size);
    let recovered: boolean | undefined;
    try {
      await sub.feed.ready;
      if (ctx.closed) return;
      if (ns.presence) {
        await presence.join(channel, presenceEntry(ctx, access.info));
        if (ctx.closed) return;
      }
      if (since !== null) {
        recovered = await recover(sub.feed, sub, since);
        observer?.recovery?.(recovered ? 'recovered' : 'resync');
        if (ctx.closed) return;
      }
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      if (find(ctx, channel) === sub) drop(ctx, sub);
      return refuse(ctx, message, 'unavailable');
    }
    if (!sub.live) {
      sub.last = sub.feed.position.offset;
      sub.feed.goLive(sub);
    }
    if (ns.joinLeave) {
      sub.announced = true;
      tell(channel, { type: 'join', sub: sub.who, conn: ctx.connectionId });
    }
    ack(ctx, message, sub, recovered);
  };

  const unsubscribe: Handler = (message, ctx) => {
    if (!isValidChannel(message.channel)) return refuse(ctx, message, 'invalid_channel');
    const sub = find(ctx, message.channel);
    if (sub !== undefined) drop(ctx, sub);
    ctx.send({ type: 'ok', id: message.id });
  };

  const publish: Handler = async (message, ctx) => {
    const access = await allowed(message, ctx, 'publish');
    if (access === null) return;
    const { channel } = access;
    let position: Position | null;
    try {
      position = await service.publish(channel, message.data ?? null, ctx.identity.sub);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      observer?.published?.(false);
      return refuse(ctx, message, 'unavailable');
    }
    observer?.published?.(true);
    ctx.send(
      position === null ? { type: 'ok', id: message.id } : { type: 'ok', id: message.id, offset: position.offset, epoch: position.epoch },
    );
  };

  const history: Handler = async (message, ctx) => {
    const channel = checked(message, ctx);
    if (channel === null) return;
    if (namespaces.historyFor(channel) === null) return refuse(ctx, message, 'history_disabled');
    const since = message.since === undefined ? undefined : readSince(message.since);
    if (since === null) return refuse(ctx, message, 'invalid_position');
    const limit = readLimit(message.limit);
    if (limit === null) return refuse(ctx, message, 'invalid_limit');
    let page;
    try {
      page = await service.history(channel, since === undefined ? { limit } : { since, limit });
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return refuse(ctx, message, 'unavailable');
    }
    // Without `since` the page starts at the oldest kept: complete by definition.
    const complete = since === undefined || (page.epochMatches && page.reachesBack);
    ctx.send({
      type: 'history',
      id: message.id,
      channel,
      publications: complete ? page.publications.map((p) => ({ data: p.data, from: p.from, offset: p.position!.offset })) : [],
      offset: page.position.offset,
      epoch: page.position.epoch,
      complete,
    });
  };

  const presenceList: Handler = async (message, ctx) => {
    const channel = checked(message, ctx);
    if (channel === null) return;
    if (!namespaces.optionsFor(channel).presence) return refuse(ctx, message, 'presence_disabled');
    let page;
    try {
      page = await service.presence(channel, MAX_PRESENCE_LIST);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return refuse(ctx, message, 'unavailable');
    }
    const clients = page.entries.map((e) =>
      e.info === undefined ? { sub: e.sub, conn: e.connectionId } : { sub: e.sub, conn: e.connectionId, info: e.info },
    );
    ctx.send({ type: 'presence', id: message.id, channel, clients, total: page.total });
  };

  const presenceStats: Handler = async (message, ctx) => {
    const channel = checked(message, ctx);
    if (channel === null) return;
    if (!namespaces.optionsFor(channel).presence) return refuse(ctx, message, 'presence_disabled');
    let stats;
    try {
      stats = await service.presenceStats(channel);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return refuse(ctx, message, 'unavailable');
    }
    ctx.send({ type: 'presence_stats', id: message.id, channel, connections: stats.connections, users: stats.users });
  };

  return { subscribe, unsubscribe, publish, history, presence: presenceList, presence_stats: presenceStats };
}

/** A subscribe for a channel already subscribed: recovered when the client is where this socket already is (or behind it, with it sent since). */
function alreadyAt(sub: Subscription, since: Position): boolean {
  return sub.feed.policy !== null && since.epoch === sub.feed.position.epoch && since.offset <= sub.feed.lastOf(sub);
}

function ack(ctx: HandlerContext, message: InboundMessage, sub: Subscription, recovered?: boolean): void {
  if (sub.feed.policy === null) return ctx.send({ type: 'ok', id: message.id });
  const { epoch } = sub.feed.position;
  ctx.send(
    recovered === undefined
      ? { type: 'ok', id: message.id, offset: sub.feed.lastOf(sub), epoch }
      : { type: 'ok', id: message.id, recovered, offset: sub.feed.lastOf(sub), epoch },
  );
}

/**
 * This connection in presence: its `sub`, its id, and its info — the backend's for this channel (a
 * proxied subscribe's allow), else the `info` claim when the verifier gave one (a JSON object, at most 1 KiB).
 */
function presenceEntry(ctx: HandlerContext, fromBackend?: Readonly<Record<string, unknown>>): PresenceEntry {
  const { sub, claims } = ctx.identity;
  const info = fromBackend ?? claims.info;
  if (typeof info === 'object' && info !== null && !Array.isArray(info)) {
    try {
      if (new TextEncoder().encode(JSON.stringify(info)).length <= MAX_PRESENCE_INFO_BYTES)
        return { sub, connectionId: ctx.connectionId, info: info as Record<string, unknown> };
    } catch {
      // not JSON: left out
    }
  }
  return { sub, connectionId: ctx.connectionId };
}

function refuse(ctx: HandlerContext, message: InboundMessage, code: ErrorReplyCode): void {
  ctx.send({ type: 'error', id: message.id, code });
}
