/**
 * subscribe / unsubscribe / publish, acknowledged by id. A refusal is an error reply, never a
 * close. Subscriptions belong to the connection and end with it.
 */
import type { Broker } from './broker.ts';
import type { Handler, HandlerContext, Handlers } from '../core/handler.ts';
import type { GatewayObserver } from '../core/observer.ts';
import type { InboundMessage } from '../protocol/messages.ts';
import { isValidChannel } from './names.ts';
import { isAllowed, type ChannelAction } from './permissions.ts';

export interface ChannelOptions {
  readonly broker: Broker;
  /** Channels one connection may be subscribed to at once; default 32 (the server's `--max-channels`). */
  readonly maxChannelsPerConnection?: number;
  readonly observer?: Pick<GatewayObserver, 'published' | 'delivered'>;
}

type Unsubscribe = () => void;

/** The default of `maxChannelsPerConnection`. */
export const DEFAULT_MAX_CHANNELS = 32;

export function channelHandlers(options: ChannelOptions): Handlers {
  const maxChannels = options.maxChannelsPerConnection ?? DEFAULT_MAX_CHANNELS;
  // Per connection: channel → how to stop listening. Emptied and deleted when the socket closes.
  const subscriptions = new Map<string, Map<string, Unsubscribe>>();

  const subscriptionsOf = (ctx: HandlerContext): Map<string, Unsubscribe> => {
    let subs = subscriptions.get(ctx.connectionId);
    if (subs === undefined) {
      const created = new Map<string, Unsubscribe>();
      subscriptions.set(ctx.connectionId, created);
      ctx.onClose(() => {
        for (const stop of created.values()) stop();
        subscriptions.delete(ctx.connectionId);
      });
      subs = created;
    }
    return subs;
  };

  const subscribe: Handler = async (message, ctx) => {
    const channel = checked(message, ctx, 'subscribe');
    if (channel === null) return;
    const subs = subscriptionsOf(ctx);
    if (subs.has(channel)) return ack(ctx, message);
    if (subs.size >= maxChannels) return refuse(ctx, message, 'too_many_channels');
    let stop: Unsubscribe;
    try {
      stop = await options.broker.subscribe(channel, (delivery) => {
        options.observer?.delivered?.();
        ctx.send({ type: 'message', channel: delivery.channel, data: delivery.data, from: delivery.from });
      });
    } catch {
      return refuse(ctx, message, 'unavailable');
    }
    if (ctx.closed) return stop(); // The socket went away while the broker was subscribing.
    subs.set(channel, stop);
    ack(ctx, message);
  };

  const unsubscribe: Handler = (message, ctx) => {
    if (!isValidChannel(message.channel)) return refuse(ctx, message, 'invalid_channel');
    const subs = subscriptions.get(ctx.connectionId);
    subs?.get(message.channel)?.();
    subs?.delete(message.channel);
    ack(ctx, message);
  };

  const publish: Handler = async (message, ctx) => {
    const channel = checked(message, ctx, 'publish');
    if (channel === null) return;
    try {
      await options.broker.publish({ channel, data: message.data ?? null, from: ctx.identity.sub });
    } catch {
      options.observer?.published?.(false);
      return refuse(ctx, message, 'unavailable');
    }
    options.observer?.published?.(true);
    ack(ctx, message);
  };

  return { subscribe, unsubscribe, publish };
}

function checked(message: InboundMessage, ctx: HandlerContext, action: ChannelAction): string | null {
  if (!isValidChannel(message.channel)) {
    refuse(ctx, message, 'invalid_channel');
    return null;
  }
  if (!isAllowed(ctx.identity, action, message.channel)) {
    ctx.logger.info({ action, channel: message.channel }, 'channel.forbidden');
    refuse(ctx, message, 'forbidden');
    return null;
  }
  return message.channel;
}

function ack(ctx: HandlerContext, message: InboundMessage): void {
  ctx.send({ type: 'ok', id: message.id });
}

function refuse(
  ctx: HandlerContext,
  message: InboundMessage,
  code: 'invalid_channel' | 'forbidden' | 'too_many_channels' | 'unavailable',
): void {
  ctx.send({ type: 'error', id: message.id, code });
}
