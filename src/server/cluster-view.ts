/**
 * The cluster as the server API sees it (active channels, instances): a request/response over the
 * Broker's control channel, as socket.io-redis-adapter does it. Every instance says `hello` every
 * few seconds, so each knows which others are alive (a lease); a query goes to all, each answers on
 * the asker's own reply channel, and the asker returns once every live instance answered, or at
 * the deadline with the silent ones named. Memory or Redis: the same code over the Broker port.
 */
import type { ChannelCount, ClusterAnswers, ClusterView, InstanceInfo } from '../api/ports.ts';
import type { Broker } from '../channels/broker.ts';
import { CONTROL_CHANNEL } from '../channels/index.ts';
import { matches } from '../channels/permissions.ts';
import type { Logger } from '../logging/logger.ts';

/** What this instance knows about itself. */
export interface LocalView {
  info(): Omit<InstanceInfo, 'id'>;
  /** Channels with local subscribers, and how many. */
  channels(): Iterable<readonly [string, number]>;
}

export interface ClusterViewOptions {
  /** How often this instance says hello (ms). Default 5000. */
  readonly helloIntervalMs?: number;
  /** An instance not heard from for this long is no longer waited for (ms). Default 3 × hello. */
  readonly leaseMs?: number;
  /** How long a query waits for the others (ms). Default 1000. */
  readonly answerTimeoutMs?: number;
}

export interface ClusterViewHandle extends ClusterView {
  readonly instance: string;
  /** Says goodbye (the others stop waiting for this instance) and stops listening. */
  close(): Promise<void>;
}

type Query = { readonly type: 'info' } | { readonly type: 'channels'; readonly pattern?: string; readonly limit: number };
type ChannelsAnswer = { readonly channels: readonly ChannelCount[]; readonly truncated: boolean };

interface Pending {
  readonly answers: unknown[];
  readonly waitingFor: Set<string>;
  done(): void;
}

const REPLY_PREFIX = '$hws.reply.';
const MAX_ID = 128;

export function createClusterView(broker: Broker, local: LocalView, logger: Logger, options: ClusterViewOptions = {}): ClusterViewHandle {
  const instance = crypto.randomUUID();
  const helloMs = options.helloIntervalMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 3 * helloMs;
  const answerTimeoutMs = options.answerTimeoutMs ?? 1_000;
  const replyChannel = `${REPLY_PREFIX}${instance}`;
  /** Other instances → when last heard from. */
  const seen = new Map<string, number>();
  const pending = new Map<string, Pending>();
  const stops: (() => void)[] = [];
  let closed = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const publish = (channel: string, data: unknown) => broker.publish({ channel, data, from: instance });
  const hello = () => void publish(CONTROL_CHANNEL, { kind: 'hello', instance }).catch(() => {});

  const answer = (query: Query): InstanceInfo | ChannelsAnswer =>
    query.type === 'info' ? { id: instance, ...local.info() } : localChannels(local, query.pattern, query.limit);

  const onControl = (data: unknown) => {
    const m = data as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || !isId(m.instance) || m.instance === instance) return;
    if (m.kind === 'bye') {
      seen.delete(m.instance);
      for (const p of pending.values()) if (p.waitingFor.delete(m.instance) && p.waitingFor.size === 0) p.done();
      return;
    }
    if (m.kind !== 'hello' && m.kind !== 'query') return;
    seen.set(m.instance, Date.now());
    if (m.kind !== 'query' || !isId(m.id) || typeof m.replyTo !== 'string' || !m.replyTo.startsWith(REPLY_PREFIX)) return;
    const query = readQuery(m.query);
    if (query === null) return;
    publish(m.replyTo, { kind: 'answer', instance, id: m.id, answer: answer(query) }).catch(() => {
      logger.warn({ peer: m.instance }, 'cluster.answer_failed');
    });
  };

  const onReply = (data: unknown) => {
    const m = data as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || m.kind !== 'answer' || !isId(m.instance) || !isId(m.id)) return;
    const p = pending.get(m.id);
    if (p === undefined) return;
    seen.set(m.instance, Date.now());
    p.answers.push(m.answer);
    if (p.waitingFor.delete(m.instance) && p.waitingFor.size === 0) p.done();
  };

  // The broker may be down at start: keep trying (the broker keeps subscriptions across reconnects).
  const listen = (channel: string, listener: (data: unknown) => void, delayMs: number) => {
    broker
      .subscribe(channel, ({ data }) => listener(data))
      .then((stop) => {
        if (closed) stop();
        else stops.push(stop);
        if (channel === CONTROL_CHANNEL) hello();
      })
      .catch(() => {
        if (closed) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          listen(channel, listener, Math.min(delayMs * 2, 5_000));
        }, delayMs);
        timers.add(timer);
      });
  };
  listen(replyChannel, onReply, 250);
  listen(CONTROL_CHANNEL, onControl, 250);
  const helloTimer = setInterval(hello, helloMs);
  (helloTimer as { unref?: () => void }).unref?.();

  const ask = async <T>(query: Query): Promise<ClusterAnswers<T>> => {
    const now = Date.now();
    for (const [peer, at] of seen) if (now - at > leaseMs) seen.delete(peer);
    const id = crypto.randomUUID();
    const own = answer(query) as T;
    const waitingFor = new Set(seen.keys());
    if (waitingFor.size === 0) return { answers: [own], missing: [] };
    let done = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const p: Pending = { answers: [own], waitingFor, done };
    pending.set(id, p);
    const timer = setTimeout(done, answerTimeoutMs);
    try {
      await publish(CONTROL_CHANNEL, { kind: 'query', instance, id, replyTo: replyChannel, query });
      await finished;
    } catch {
      logger.warn({ query: query.type }, 'cluster.query_failed'); // the broker is down: this instance's answer only
    } finally {
      clearTimeout(timer);
      pending.delete(id);
    }
    return { answers: p.answers.filter((a) => a !== null && typeof a === 'object') as T[], missing: [...waitingFor] };
  };

  return {
    instance,
    channels: (request) =>
      ask<ChannelsAnswer>({
        type: 'channels',
        limit: request.limit,
        ...(request.pattern === undefined ? {} : { pattern: request.pattern }),
      }),
    info: () => ask<InstanceInfo>({ type: 'info' }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(helloTimer);
      for (const timer of timers) clearTimeout(timer);
      await publish(CONTROL_CHANNEL, { kind: 'bye', instance }).catch(() => {});
      for (const stop of stops) stop();
      for (const p of pending.values()) p.done();
    },
  };
}

/** This instance's channels matching `pattern`, busiest first, at most `limit`. */
function localChannels(local: LocalView, pattern: string | undefined, limit: number): ChannelsAnswer {
  const list: ChannelCount[] = [];
  for (const [channel, subscribers] of local.channels())
    if (subscribers > 0 && (pattern === undefined || matches(pattern, channel))) list.push({ channel, subscribers });
  list.sort((a, b) => b.subscribers - a.subscribers || (a.channel < b.channel ? -1 : 1));
  return { channels: list.slice(0, limit), truncated: list.length > limit };
}

const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;

function readQuery(value: unknown): Query | null {
  const q = value as Record<string, unknown> | null;
  if (typeof q !== 'object' || q === null) return null;
  if (q.type === 'info') return { type: 'info' };
  if (q.type !== 'channels' || !Number.isInteger(q.limit) || (q.limit as number) < 1 || (q.limit as number) > 10_000) return null;
  if (q.pattern !== undefined && (typeof q.pattern !== 'string' || q.pattern.length > 128)) return null;
  return q.pattern === undefined
    ? { type: 'channels', limit: q.limit as number }
    : { type: 'channels', pattern: q.pattern, limit: q.limit as number };
}
