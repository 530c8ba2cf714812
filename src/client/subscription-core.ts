/**
 * One channel's subscription as the client runs it: wanted or not, confirmed on this connection or
 * not, its order keeper (position, gaps, recovery), the app's listeners, and who waits for the
 * subscribe to be confirmed. The app sees it through a Subscription handle.
 */
import { Emitter } from './emitter.ts';
import { ClientError } from './errors.ts';
import { Sequencer, type Incoming } from './sequencer.ts';
import { checkedPosition, historyPageOf, isEpoch, positionOf } from './stream-replies.ts';
import { Subscription, type ChannelQueries, type SubscriptionControl } from './subscription.ts';
import type {
  ChannelHandler,
  ResyncReason,
  StreamPosition,
  SubscribeOptions,
  Subscribed,
  SubscriptionEvents,
  SubscriptionState,
} from './subscription-types.ts';
import type { OutgoingMessage, Reply } from './types.ts';

export interface ChannelPort {
  /** A request on the live, authenticated socket; rejects with `not_connected` without one. */
  request(message: OutgoingMessage): Promise<Reply>;
  /** True once `auth.ok` has arrived on the live socket. */
  isOpen(): boolean;
  /** Something nobody awaits went wrong: a refused resubscribe, a listener that threw, a failed gap fill. */
  report(error: Error): void;
  /** The most publications one gap is filled with from history. */
  readonly maxGapFill: number;
}

interface Waiter {
  resolve(subscribed: Subscribed): void;
  reject(error: Error): void;
}

/** Codes that mean "this connection went away": the subscribe goes out again on the next one. */
const TRANSIENT = new Set(['connection_lost', 'not_connected']);

export class SubscriptionCore implements SubscriptionControl {
  readonly channel: string;
  readonly handle: Subscription;
  readonly #port: ChannelPort;
  readonly #events = new Emitter<SubscriptionEvents>();
  readonly #sequencer: Sequencer;
  #state: SubscriptionState = 'unsubscribed';
  #waiters: Waiter[] = [];
  /** False once the namespace answered `recovery_disabled`: later subscribes go without `since`. */
  #recoverable = true;
  /** Set when this subscribe resumes from a position without recovery: the answer brings a resync. */
  #unrecovered: ResyncReason | null = null;
  /** Counts subscribe requests: the answer to an older one (an earlier connection, or before an unsubscribe) is ignored. */
  #attempt = 0;
  #last: Subscribed | null = null;
  /** Handlers added through `client.subscribe(channel, handler)`, with the function that removes each. */
  readonly #handlers = new Map<ChannelHandler, () => void>();

  constructor(channel: string, port: ChannelPort, queries: ChannelQueries) {
    this.channel = channel;
    this.#port = port;
    this.#sequencer = new Sequencer(
      {
        history: async (since, limit) =>
          historyPageOf(
            channel,
            await port.request({ type: 'history', channel, since: { offset: since.offset, epoch: since.epoch }, limit }),
          ),
        deliver: (message, recovered) => this.#deliver(message, recovered),
        resync: (reason) => this.#emit('resync', { channel, reason }),
        report: (error) => port.report(error),
      },
      port.maxGapFill,
    );
    this.handle = new Subscription(this, queries);
  }

  get state(): SubscriptionState {
    return this.#state;
  }

  get position(): StreamPosition | null {
    return this.#sequencer.position;
  }

  /** Whether anything still listens (the client forgets a handle nobody listens to once it is unsubscribed). */
  get listened(): boolean {
    return this.#events.size > 0;
  }

  on<K extends keyof SubscriptionEvents>(type: K, listener: (payload: SubscriptionEvents[K]) => void): () => void {
    return this.#events.on(type, listener);
  }

  /** A `client.subscribe` handler: called as (data, delivery) for each publication; the same handler twice is one. */
  addHandler(handler: ChannelHandler): void {
    if (!this.#handlers.has(handler))
      this.#handlers.set(
        handler,
        this.#events.on('message', (p) => handler(p.data, p)),
      );
  }

  /** Removes one handler (or all); returns how many are left. */
  removeHandler(handler?: ChannelHandler): number {
    for (const [h, off] of this.#handlers) {
      if (handler !== undefined && h !== handler) continue;
      off();
      this.#handlers.delete(h);
    }
    return this.#handlers.size;
  }

  subscribe(options: SubscribeOptions): Promise<Subscribed> {
    let since: StreamPosition | null = null;
    try {
      if (options.since !== undefined) since = checkedPosition(options.since, 'since');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state === 'subscribed' && this.#last !== null) return Promise.resolve(this.#last);
    const confirmed = new Promise<Subscribed>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#state === 'unsubscribed') {
      this.#state = 'subscribing';
      this.#recoverable = true;
      this.#sequencer.startFrom(since);
      // Not open yet: the subscribe goes out with the others right after auth.ok.
      if (this.#port.isOpen()) this.#send();
    }
    return confirmed;
  }

  unsubscribe(): Promise<void> {
    if (this.#state === 'unsubscribed') return Promise.resolve();
    this.#end(new ClientError('unsubscribed', 'unsubscribe() was called before the subscribe was confirmed'), false);
    if (!this.#port.isOpen()) return Promise.resolve(); // a new socket starts with no subscriptions
    return this.#port.request({ type: 'unsubscribe', channel: this.channel }).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof ClientError && TRANSIENT.has(error.code)) return;
        throw error;
      },
    );
  }

  /** After `auth.ok`: a new socket has no subscriptions, so ask again, from the position reached. */
  connected(): void {
    if (this.#state !== 'unsubscribed') this.#send();
  }

  /** The socket is gone: wait for the next one; nothing held or half-filled is kept (the resubscribe recovers it). */
  disconnected(): void {
    if (this.#state === 'unsubscribed') return;
    this.#state = 'subscribing';
    this.#attempt++;
    this.#sequencer.halt();
  }

  /** The client closed: nobody waits any longer. */
  closed(error: ClientError): void {
    if (this.#state !== 'unsubscribed') this.#end(error, true);
  }

  /** A server frame for this channel: `message`, `resync`, `join` or `leave`. */
  frame(message: Reply): void {
    if (this.#state === 'unsubscribed') return;
    if (message.type === 'message') {
      this.#sequencer.receive({ data: message.data, from: String(message.from ?? ''), position: positionOf(message) });
    } else if (message.type === 'resync') {
      if (isEpoch(message.epoch)) this.#sequencer.streamReset(message.epoch);
    } else if ((message.type === 'join' || message.type === 'leave') && typeof message.sub === 'string') {
      this.#emit(message.type, { channel: this.channel, sub: message.sub, conn: String(message.conn ?? '') });
    }
  }

  #send(): void {
    const attempt = ++this.#attempt;
    const known = this.#sequencer.position;
    const since = this.#recoverable ? known : null;
    if (known !== null && since === null) {
      // Resuming without recovery: what was published meanwhile is not coming.
      this.#unrecovered = 'recovery_disabled';
      this.#sequencer.startFrom(null);
    }
    this.#sequencer.begin(since !== null);
    const message = {
      type: 'subscribe',
      channel: this.channel,
      ...(since !== null ? { since: { offset: since.offset, epoch: since.epoch } } : {}),
    };
    this.#port.request(message).then(
      (reply) => this.#confirmed(attempt, reply, since !== null),
      (error: unknown) => this.#refused(attempt, error, since !== null),
    );
  }

  #confirmed(attempt: number, reply: Reply, sentSince: boolean): void {
    if (attempt !== this.#attempt || this.#state === 'unsubscribed') return;
    const unrecovered = this.#unrecovered;
    this.#unrecovered = null;
    const outcome = this.#sequencer.confirmed(positionOf(reply), reply.recovered === true, sentSince);
    this.#state = 'subscribed';
    const subscribed: Subscribed = {
      channel: this.channel,
      position: this.#sequencer.position,
      wasRecovering: sentSince || unrecovered !== null,
      recovered: outcome.recovered && unrecovered === null,
    };
    this.#last = subscribed;
    this.#emit('subscribed', subscribed);
    const resync = unrecovered ?? outcome.resync;
    if (resync !== null) this.#emit('resync', { channel: this.channel, reason: resync });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(subscribed);
    this.#sequencer.resume();
  }

  #refused(attempt: number, error: unknown, sentSince: boolean): void {
    if (attempt !== this.#attempt || this.#state === 'unsubscribed') return;
    if (error instanceof ClientError && TRANSIENT.has(error.code)) return; // asked again after the next auth.ok
    if (sentSince && error instanceof ClientError && error.serverCode === 'recovery_disabled') {
      this.#recoverable = false;
      return this.#send(); // once more without `since`; the answer brings the resync
    }
    // Refused (forbidden, invalid_channel, too_many_channels, …) or no answer: stop wanting it.
    const failure = error instanceof Error ? error : new ClientError('server_error', 'subscribe failed');
    const awaited = this.#waiters.length > 0;
    this.#end(failure, true);
    this.removeHandler();
    if (!awaited) this.#port.report(failure);
  }

  /** The subscription ends: waiters get `error`, the position is forgotten, listeners hear `unsubscribed`. */
  #end(error: Error, withError: boolean): void {
    this.#state = 'unsubscribed';
    this.#attempt++;
    this.#unrecovered = null;
    this.#last = null;
    this.#sequencer.forget();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.#emit('unsubscribed', withError ? { channel: this.channel, error } : { channel: this.channel });
  }

  #deliver(message: Incoming, recovered: boolean): void {
    const at = message.position;
    this.#emit('message', {
      channel: this.channel,
      data: message.data,
      from: message.from,
      ...(at !== null ? { offset: at.offset, epoch: at.epoch } : {}),
      recovered,
    });
  }

  #emit<K extends keyof SubscriptionEvents>(type: K, payload: SubscriptionEvents[K]): void {
    for (const error of this.#events.emit(type, payload))
      this.#port.report(error instanceof Error ? error : new ClientError('invalid_message', 'a listener threw a non-error'));
  }
}
