/**
 * The client: one connection at a time, re-established by itself with a fresh ticket per attempt,
 * with sends held until `auth.ok`, requests matched to replies by `id`, channels re-subscribed after
 * every reconnect (recovering what was published meanwhile) and the session refreshed in-band
 * before it ends.
 */
import { nextDelay } from './backoff.ts';
import { closeDetails } from './close-info.ts';
import { Emitter } from './emitter.ts';
import { parseFrame, serialise } from './frames.ts';
import { CloseCodes } from '../protocol/close-codes.ts';
import { ClientError, retryAfterOf, sessionExpired, ticketFailure } from './errors.ts';
import { resolveOptions, type ResolvedOptions } from './options.ts';
import { RefreshFlight, RefreshTimer, refreshSession } from './refresh.ts';
import { RequestTable } from './requests.ts';
import { SendQueue } from './send-queue.ts';
import { SessionEnd } from './session-end.ts';
import { openAuthenticatingSocket } from './socket.ts';
import { nextState } from './state.ts';
import { historyPageOf, historyRequest, positionOf, presenceOf, presenceStatsOf } from './stream-replies.ts';
import type { Subscription } from './subscription.ts';
import type {
  ChannelHandler,
  HistoryOptions,
  HistoryPage,
  PresenceResult,
  PresenceStats,
  StreamPosition,
  SubscribeOptions,
  Subscribed,
} from './subscription-types.ts';
import { SubscriptionRegistry } from './subscriptions.ts';
import { grantOf } from './ticket.ts';
import type { ClientEvents, ClientState, CloseDetails, ConnectOptions, OutgoingMessage, Reply, WebSocketLike } from './types.ts';

const OPEN = 1;

export class Client {
  readonly #o: ResolvedOptions;
  readonly #events = new Emitter<ClientEvents>();
  #state: ClientState = 'connecting';
  readonly #onStateChange: ConnectOptions['onStateChange'];
  readonly #queue: SendQueue;
  readonly #requests: RequestTable;
  readonly #subscriptions: SubscriptionRegistry;
  readonly #refresh: RefreshFlight;
  readonly #refreshTimer: RefreshTimer;
  #socket: WebSocketLike | null = null;
  /** Id of the live attempt (0: none). Events from an older attempt's socket or ticket are ignored. */
  #current = 0;
  #seq = 0;
  /** Attempts that failed in a row since the last `auth.ok`: drives the backoff step. */
  #failures = 0;
  #timer: unknown = undefined;
  #sub: string | null = null;
  readonly #session = new SessionEnd();
  #lastClose: CloseDetails | null = null;
  #endError: ClientError | null = null;

  constructor(options: ConnectOptions) {
    this.#o = resolveOptions(options);
    const onStateChange = options.onStateChange;
    this.#onStateChange = onStateChange;
    this.#queue = new SendQueue(this.#o.maxPendingSends);
    this.#requests = new RequestTable(this.#o.clock, (id) => this.#queue.remove(id));
    this.#subscriptions = new SubscriptionRegistry(
      {
        request: (message) => this.#request(message, this.#o.requestTimeoutMs, 'direct'),
        isOpen: () => this.state === 'open',
        report: (error) => this.#emit('error', { error }),
        maxGapFill: this.#o.maxGapFill,
      },
      {
        publish: (channel, data) => this.publish(channel, data),
        history: (channel, options) => this.history(channel, options),
        presence: (channel) => this.presence(channel),
        presenceStats: (channel) => this.presenceStats(channel),
      },
    );
    this.#refresh = new RefreshFlight(() => this.#performRefresh());
    this.#refreshTimer = new RefreshTimer(this.#o.clock, this.#o.refreshBeforeMs, () => this.#refreshDue());
    this.#attempt();
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Every state change goes through here: checked against the life cycle, then announced once. */
  #setState(next: ClientState): void {
    const previous = this.#state;
    if (next === previous) return;
    this.#state = nextState(previous, next);
    this.#log('debug', 'state', { state: next, previous });
    const onStateChange = this.#onStateChange;
    if (onStateChange) this.#guard(() => onStateChange(next, previous));
    this.#emit('state', { state: next, previous });
  }
  /** The authenticated subject, once `auth.ok` has arrived. */
  get sub(): string | null {
    return this.#sub;
  }
  /** Session end in epoch seconds, from `auth.ok` or the last refresh. */
  get exp(): number | null {
    return this.#session.exp;
  }
  /** How the last socket ended, with its meaning and retry class. */
  get lastClose(): CloseDetails | null {
    return this.#lastClose;
  }
  /**
   * Why the client is closed (`closed` state): `closed` (by `close()` or a terminal close code),
   * `logged_out`, `session_expired`, `ticket_refused` (see its `serverCode`) or `invalid_url`.
   */
  get closedBecause(): ClientError | null {
    return this.#endError;
  }

  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#events.on(type, listener);
  }

  /** Sends a message now if open, else holds it (bounded) until `auth.ok`. Throws `queue_full` / `closed`. */
  send(message: OutgoingMessage): void {
    this.#assertUsable();
    this.#dispatch(serialise(message));
  }

  /** Sends `message` with a fresh `id` and resolves with the reply carrying that id. */
  request(message: OutgoingMessage, options: { timeoutMs?: number } = {}): Promise<Reply> {
    return this.#request(message, options.timeoutMs ?? this.#o.requestTimeoutMs, 'queue');
  }

  /**
   * The channel's subscription handle (the same one for every call), for its events (`message`,
   * `subscribed`, `resync`, `join`, `leave`), its position and its operations. Nothing is sent
   * until its `subscribe()`.
   */
  channel(channel: string): Subscription {
    return this.#subscriptions.get(channel).handle;
  }

  /**
   * Adds `handler` for the channel's publications and subscribes (now, or at the next `auth.ok`);
   * resolves once the server confirmed. `client.channel(channel)` has the subscription's other events.
   */
  subscribe(channel: string, handler: ChannelHandler, options: SubscribeOptions = {}): Promise<Subscribed> {
    this.#assertUsable();
    if (typeof handler !== 'function') return Promise.reject(new ClientError('invalid_message', 'handler must be a function'));
    try {
      const core = this.#subscriptions.get(channel);
      core.addHandler(handler);
      return core.subscribe(options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes `handler` (or every handler); the subscription ends when none is left. */
  unsubscribe(channel: string, handler?: ChannelHandler): Promise<void> {
    const core = this.#subscriptions.find(channel);
    if (this.state === 'closed' || core === undefined) return Promise.resolve();
    if (core.removeHandler(handler) > 0) return Promise.resolve(); // others still listen
    const done = core.unsubscribe();
    if (!core.listened) this.#subscriptions.remove(channel);
    return done;
  }

  /** Unsubscribes the channel's handle and forgets it (with its listeners): `channel()` then gives a new one. */
  removeChannel(channel: string): Promise<void> {
    const core = this.#subscriptions.find(channel);
    if (core === undefined) return Promise.resolve();
    this.#subscriptions.remove(channel);
    return this.state === 'closed' ? Promise.resolve() : core.unsubscribe();
  }

  /** Resolves with the publication's position once the server stored it (null for channels without history). */
  async publish(channel: string, data: unknown): Promise<StreamPosition | null> {
    if (typeof channel !== 'string') throw new ClientError('invalid_message', 'channel must be a string');
    return positionOf(await this.request({ type: 'publish', channel, data }));
  }

  /** Stored publications after `since` (or from the oldest kept), at most `limit`; needs subscribe permission. */
  async history(channel: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    checkChannel(channel);
    return historyPageOf(channel, await this.request(historyRequest(channel, options)));
  }

  /** Who is subscribed to the channel (namespaces with presence): `sub`, connection id, public claims. */
  async presence(channel: string): Promise<PresenceResult> {
    checkChannel(channel);
    return presenceOf(channel, await this.request({ type: 'presence', channel }));
  }

  /** How many connections and distinct users are subscribed to the channel. */
  async presenceStats(channel: string): Promise<PresenceStats> {
    checkChannel(channel);
    return presenceStatsOf(channel, await this.request({ type: 'presence_stats', channel }));
  }

  /** Refreshes the session with a fresh ticket; concurrent calls share one refresh. Resolves with the new exp. */
  refresh(): Promise<number> {
    return this.#refresh.trigger();
  }

  /** Closes for good: no reconnect, pending requests and held sends fail with `closed`. */
  close(code = 1000, reason = 'client closed'): void {
    if (this.state === 'closed') return;
    const socket = this.#socket;
    this.#detach();
    try {
      socket?.close(code, reason);
    } catch {
      socket?.close();
    }
    this.#lastClose = closeDetails(code, reason, true);
    this.#emit('close', { ...this.#lastClose, reconnectInMs: null });
    this.#end(new ClientError('closed', 'the client was closed'));
  }

  // ---- connection attempts -------------------------------------------------------------------

  async #attempt(): Promise<void> {
    const id = (this.#current = ++this.#seq);
    if (this.state === 'reconnecting') this.#setState('connecting');
    this.#timer = this.#o.clock.setTimeout(
      () => this.#lost(id, 1006, 'connect timeout', 'reconnect-with-backoff'),
      this.#o.connectTimeoutMs,
    );
    this.#log('debug', 'connecting', { attempt: id });
    let ticket: unknown;
    try {
      ticket = await this.#o.getTicket();
    } catch (error) {
      if (id === this.#current) this.#ticketFailed(error);
      return;
    }
    if (id !== this.#current) return;
    const grant = grantOf(ticket);
    if (grant === null) return this.#ticketFailed(new TypeError('getTicket did not return a ticket'));
    this.#session.granted(grant.sessionExp);
    // The endpoint says the session is already over: the ticket would only earn a 4401.
    if (grant.sessionExp !== undefined && grant.sessionExp * 1000 <= this.#o.clock.now()) return this.#stop(sessionExpired());
    try {
      this.#socket = openAuthenticatingSocket(this.#o.WebSocket, this.#o.url, grant.ticket, {
        opened: () => id === this.#current && this.#setState('authenticating'),
        message: (data) => id === this.#current && this.#onFrame(id, data),
        closed: (code, reason) => this.#lost(id, code, reason),
      });
    } catch {
      this.#end(new ClientError('invalid_url', 'the WebSocket implementation refused the url'));
    }
  }

  #ticketFailed(error: unknown): void {
    const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
    // The app's error message could say anything; only its name and status are logged.
    this.#log('warn', 'ticket.failed', { error: error instanceof Error ? error.name : typeof error, status });
    // A 401 once exp has passed is the session running out, not someone logging out.
    const failure = ticketFailure(error, this.#session.endedBy(this.#o.clock.now()));
    if (failure.code !== 'ticket_failed') return this.#stop(failure);
    this.#emit('error', { error: new ClientError('ticket_failed', 'getTicket failed; retrying with backoff') });
    this.#detach();
    this.#scheduleReconnect('reconnect-with-backoff', retryAfterOf(error));
  }

  /** The attempt's socket ended (or never got authenticated in time). */
  #lost(id: number, code: number, reason: string, forced?: 'reconnect-with-backoff'): void {
    if (id !== this.#current || this.state === 'closed') return;
    const socket = this.#socket;
    this.#detach();
    if (forced && socket) socket.close();
    this.#requests.failSentOn(id);
    this.#subscriptions.disconnected();
    const details = closeDetails(code, reason, false);
    this.#lastClose = details;
    // 4410 ends the session, not just the socket: a new ticket would be refused, unless a ticket
    // response already showed the session lasting longer (a refresh that failed on the way).
    const expired = code === CloseCodes.sessionExpired.code && !this.#session.outlivesExp;
    if (details.retry === 'do-not-retry' || expired) {
      this.#log('info', 'closed', { code, reason: details.reason, retry: details.retry, reconnectInMs: null });
      this.#emit('close', { ...details, reconnectInMs: null });
      if (expired) this.#stop(sessionExpired());
      else this.#end(new ClientError('closed', `the server closed the connection for good (${code})`));
      return;
    }
    this.#scheduleReconnect(forced ?? details.retry, details.retryAfterMs, details);
  }

  #scheduleReconnect(retry: 'reconnect' | 'reconnect-with-backoff', hintMs?: number, details?: CloseDetails): void {
    const delay = nextDelay(retry, this.#failures, this.#o.backoff, this.#o.random, hintMs);
    this.#failures++;
    if (details) {
      this.#log('info', 'closed', { code: details.code, reason: details.reason, retry, reconnectInMs: delay });
      this.#emit('close', { ...details, reconnectInMs: delay });
    }
    if (this.state === 'closed') return; // a close listener closed the client
    this.#setState('reconnecting');
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, delay);
  }

  /** Stops listening to the current socket and cancels the attempt's and the session's timers. */
  #detach(): void {
    this.#current = 0;
    this.#socket = null;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#refreshTimer.cancel();
  }

  /**
   * Stops for a reason the app must act on: `session` (expired) for a session that ran out, the
   * `error` event for the rest; either way `closedBecause` holds the reason once the state is closed.
   */
  #stop(error: ClientError): void {
    this.#log('info', 'stopped', { code: error.code, serverCode: error.serverCode });
    if (error.code === 'session_expired') this.#emit('session', { kind: 'expired', exp: this.#session.exp });
    else this.#emit('error', { error });
    this.#end(error);
  }

  #end(error: ClientError): void {
    this.#detach();
    this.#endError = error;
    this.#requests.failAll(error);
    this.#queue.drain();
    this.#subscriptions.closed(error);
    this.#setState('closed');
  }

  // ---- frames --------------------------------------------------------------------------------

  #onFrame(id: number, data: unknown): void {
    const message = parseFrame(data);
    if (message === null) return;
    if (message.type === 'auth.ok' && this.state === 'authenticating') return this.#authenticated(id, message);
    if (this.#requests.settle(message)) return;
    if (this.#subscriptions.route(message)) return;
    if (message.type === 'session.expiring') {
      this.#emit('session', { kind: 'expiring', exp: this.#session.exp, inMs: typeof message.in === 'number' ? message.in : undefined });
      this.#refreshDue();
    }
    this.#emit('message', message);
  }

  #authenticated(id: number, message: Reply): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#failures = 0;
    this.#sub = String(message.sub ?? '');
    this.#session.set(typeof message.exp === 'number' ? message.exp : null);
    const exp = this.#session.exp;
    if (exp !== null) this.#refreshTimer.arm(exp);
    this.#log('info', 'authenticated', { sub: this.#sub, exp });
    // Channels first, then held sends in order, all before the state says open: a listener that
    // sends on `open` must not overtake what was queued before it.
    this.#subscriptions.connected();
    for (const frame of this.#queue.drain()) this.#write(id, frame.text, frame.requestId);
    this.#setState('open');
    this.#emit('open', { sub: this.#sub, exp: exp ?? 0 });
  }

  #write(id: number, text: string, requestId?: number): void {
    this.#socket?.send(text);
    if (requestId !== undefined) this.#requests.markSent(requestId, id);
  }

  #dispatch(text: string, requestId?: number): void {
    if (this.state === 'open' && this.#socket?.readyState === OPEN) this.#write(this.#current, text, requestId);
    else this.#queue.push(requestId === undefined ? { text } : { text, requestId });
  }

  /** `direct` requests (subscribe on auth.ok, refresh) go out now or fail; `queue` ones may wait for auth.ok. */
  #request(message: OutgoingMessage, timeoutMs: number, mode: 'direct' | 'queue'): Promise<Reply> {
    if (this.state === 'closed') return Promise.reject(this.#endError ?? new ClientError('closed', 'the client is closed'));
    const { id, reply } = this.#requests.open(timeoutMs);
    try {
      const text = serialise({ ...message, id });
      if (mode === 'queue') this.#dispatch(text, id);
      else if (this.#socket?.readyState === OPEN && this.#current !== 0) this.#write(this.#current, text, id);
      else throw new ClientError('not_connected', 'not connected');
    } catch (error) {
      this.#requests.cancel(id, error instanceof ClientError ? error : new ClientError('invalid_message', 'the message could not be sent'));
    }
    return reply;
  }

  // ---- session refresh -----------------------------------------------------------------------

  async #performRefresh(): Promise<number> {
    const port = {
      isOpen: () => this.state === 'open',
      getTicket: this.#o.getTicket,
      request: (message: OutgoingMessage) => this.#request(message, this.#o.requestTimeoutMs, 'direct'),
    };
    const kind = await refreshSession(port, this.#session);
    const exp = this.#session.exp;
    if (exp !== null && kind === 'refreshed') this.#refreshTimer.arm(exp);
    this.#log('info', kind === 'refreshed' ? 'session.refreshed' : 'session.final', { exp });
    this.#emit('session', { kind, exp });
    return exp ?? 0;
  }

  /**
   * A warning arrived or the local timer fired: refresh, unless a refresh already found this exp
   * final (then a second ticket would learn nothing) or one is in flight (it is shared).
   */
  #refreshDue(): void {
    if (this.#session.refreshWorthTrying) this.#refreshInBackground();
  }

  #refreshInBackground(): void {
    this.refresh().catch((error: unknown) => {
      this.#log('warn', 'refresh.failed', {
        code: error instanceof ClientError ? error.code : 'unknown',
        serverCode: error instanceof ClientError ? error.serverCode : undefined,
      });
      this.#report(error);
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  #assertUsable(): void {
    if (this.state === 'closed') throw this.#endError ?? new ClientError('closed', 'the client is closed');
  }

  #emit<K extends keyof ClientEvents>(type: K, payload: ClientEvents[K]): void {
    for (const error of this.#events.emit(type, payload)) this.#log('warn', 'listener.threw', { event: type, error: errorName(error) });
  }

  #report(error: unknown): void {
    this.#emit('error', { error: error instanceof Error ? error : new ClientError('invalid_message', 'a handler threw a non-error') });
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log('warn', 'listener.threw', { event: 'onStateChange', error: errorName(error) });
    }
  }

  #log(level: 'debug' | 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    try {
      this.#o.logger[level]?.(`hardened-ws client: ${message}`, fields);
    } catch {
      // A broken logger must not break the connection.
    }
  }
}

function checkChannel(channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0) throw new ClientError('invalid_message', 'channel must be a non-empty string');
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
