/**
 * The per-connection driver: feeds socket events to the pure state machine and performs the
 * effects it returns. Events of one socket are handled strictly one after another on a promise
 * chain, because Hono does not await `onMessage`: without it, messages would overtake the
 * pending verification or a slow handler.
 */
import {
  transition,
  initialState,
  handlersMessage,
  parseForHandlers,
  type ConnEvent,
  type ConnState,
  type Effect,
} from './connection-machine.ts';
import { withDeadline } from '../auth/deadline.ts';
import type { Identity, Verifier, VerifyRequest, VerifyResult } from '../auth/verifier.ts';
import { refilled } from './token-bucket.ts';
import type { Frame, InboundMessage, OutboundMessage } from '../protocol/messages.ts';
import { encode } from '../protocol/encode.ts';
import { utf8ByteLength } from '../protocol/parse.ts';
import { CloseCodes, type CloseCodeInfo } from '../protocol/close-codes.ts';
import { dispatch } from './dispatch.ts';
import type { HandlerContext, Handlers } from './handler.ts';
import type { Limits } from './limits.ts';
import { BoundLogger, type Logger } from '../logging/logger.ts';
import type { SessionClock, SessionClockWatcher } from './session-clock.ts';
import type { GatewayObserver } from './observer.ts';
import type { SocketPort, SocketTopics } from './socket-port.ts';
import type { TopicMember } from './fanout.ts';

export type { SocketPort } from './socket-port.ts';

/** How long a slow consumer's close frame may wait in its full send buffer before the connection is dropped. */
const SLOW_CONSUMER_GRACE_MS = 1_000;

/**
 * What a connection holds only now and then: empty on an idle authenticated socket, so it lives in
 * an object made when first needed and dropped when all of it is empty again (memory per socket).
 */
class Occasional {
  /** The events queued behind a running one. */
  chain: Promise<void> | undefined = undefined;
  /** Events queued and not yet started (bounded by limits.maxPendingEvents). */
  pending = 0;
  deadline: ReturnType<typeof setTimeout> | undefined = undefined;
  closeCallbacks: (() => void)[] | undefined = undefined;
  terminateTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The runtime topics this socket is subscribed to (channel fan-out), left when it closes. */
  joined: { readonly topics: SocketTopics; readonly names: string[] } | undefined = undefined;

  get empty(): boolean {
    return (
      this.chain === undefined &&
      this.pending === 0 &&
      this.deadline === undefined &&
      this.closeCallbacks === undefined &&
      this.terminateTimer === undefined &&
      this.joined === undefined
    );
  }
}

/**
 * Decides whether a freshly verified identity may hold a socket (per-user caps); null admits it.
 * Runs before `auth.ok`, so a refused connection never sees one.
 */
export type Admit = (identity: Identity, connection: Connection) => CloseCodeInfo | null | Promise<CloseCodeInfo | null>;

/** What is this socket's own: copied into the connection's fields (no per-socket deps object). */
export interface ConnectionOwn {
  readonly id: string;
  readonly socket: SocketPort;
  readonly origin: string | null;
  readonly ip: string | null;
  /** Something the socket holds (the admission's slot), released by whoever owns it once it closed. */
  readonly slot?: { release(): void };
}

/** What every connection of a gateway shares: one object, not one per socket. */
export interface SharedConnectionDeps {
  readonly verifier: Verifier;
  readonly handlers: Handlers;
  readonly limits: Limits;
  /** Receives this connection's lines with conn, ip and origin (and sub once authenticated) in their fields. */
  readonly logger: Logger;
  readonly now: () => number;
  /** The gateway's one timer for every socket's session warning and expiry. */
  readonly sessionClock: SessionClock;
  readonly admit?: Admit;
  readonly observer?: GatewayObserver;
  /** Called once, when the runtime reports the socket closed (whoever started the close). */
  readonly onClosed: (connection: Connection) => void;
  /** A refresh replaced the authenticated identity (same user; maybe another login session). */
  readonly onIdentityChanged?: (connection: Connection, identity: Identity) => void;
}

export type ConnectionDeps = SharedConnectionDeps & ConnectionOwn;

/**
 * An idle authenticated socket costs memory per field, and more per object or map entry: what a
 * connection needs of its own (ids, rate bucket, clock membership) is kept in fields here.
 */
export class Connection implements SessionClockWatcher, HandlerContext, TopicMember {
  readonly id: string;
  readonly slot: { release(): void } | undefined;
  /** The registry's record of this connection (registry.ts; nothing else reads it): a field, not a map entry. */
  registryEntry: unknown = undefined;
  /** The session clock's place of this connection (session-clock.ts), declared so that every connection has one shape. */
  clockIndex = -1;
  readonly #socket: SocketPort;
  readonly #origin: string | null;
  readonly #ip: string | null;
  #state: ConnState = initialState;
  /** Event queue, auth deadline, close callbacks, slow consumer's timer, topics: see `Occasional`. */
  #occasional: Occasional | undefined;
  /** Events running or queued; 0 means the next event may run synchronously. */
  #busy = 0;
  /**
   * The session end the clock is armed for (epoch seconds), and the second of its warning. The
   * clock holds the connection under one second at a time: the warning's while one is due, else exp.
   */
  #sessionExp: number | undefined;
  #warningSecond: number | undefined;
  #closedNotified = false;
  /** The user, once authenticated: every later line of this connection names them. */
  #sub: string | undefined;
  /** The message rate's token bucket (limits.messageRate), as two numbers. */
  #tokens: number;
  #tokensAt: number;
  readonly #deps: SharedConnectionDeps;

  /** `own` defaults to `deps` (tests pass one object); the gateway passes its shared deps and the socket's own. */
  constructor(deps: SharedConnectionDeps | ConnectionDeps, own: ConnectionOwn = deps as ConnectionDeps) {
    this.#deps = deps;
    this.id = own.id;
    this.slot = own.slot;
    this.#socket = own.socket;
    this.#origin = own.origin;
    this.#ip = own.ip;
    this.#tokens = deps.limits.messageRate.burst;
    this.#tokensAt = deps.now();
  }

  get state(): ConnState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#state.phase === 'closed';
  }

  open(): void {
    this.#deps.observer?.phaseChanged?.(null, this.#state.phase);
    this.#apply({ type: 'open' });
  }

  receive(frame: Frame): void {
    if (this.#state.phase === 'closed') return;
    this.#deps.observer?.messageIn?.(frame.bytes);
    if (!this.#takeToken()) return this.#limitHit('message_rate', CloseCodes.rateLimited);
    if (this.#busy === 0) {
      // The common case, without a transition per message: see parseForHandlers.
      const parsed = parseForHandlers(this.#state, frame, this.#deps.limits);
      if (parsed !== undefined) {
        const message = handlersMessage(parsed);
        return message !== undefined ? this.#dispatchNow(message, frame) : this.#enqueue({ type: 'frame', frame, parsed });
      }
    }
    if ((this.#occasional?.pending ?? 0) >= this.#deps.limits.maxPendingEvents)
      return this.#limitHit('pending_events', CloseCodes.policyViolation);
    this.#enqueue({ type: 'frame', frame });
  }

  /** A message for the handlers while nothing of this socket runs: the `dispatch` effect, performed as `#run` would. */
  #dispatchNow(message: InboundMessage, frame: Frame): void {
    this.#busy++;
    let pending: Promise<void> | undefined;
    try {
      pending = dispatch(message, this.#deps.handlers, this);
    } catch (error) {
      this.#internalError(error, { type: 'frame', frame });
    }
    if (pending === undefined) this.#busy--;
    else this.#more().chain = pending.then(() => this.#settled());
  }

  /** The socket closed (either side). Idempotent: Deno fires close twice. */
  peerClosed(code: number): void {
    if (this.#state.phase !== 'closed') {
      // Debug: a client leaving is routine (counted by code in hws_connections_closed_total); the
      // audit trail is auth.ok and the server's own closes (ws.close) at info.
      this.logger.debug({ code, phase: this.#state.phase }, 'ws.closed_by_peer');
    }
    this.#apply({ type: 'peer_closed', code });
    if (!this.#closedNotified) this.#deps.observer?.closed?.(code);
    this.#notifyClosed();
  }

  /** Server-initiated close (shutdown, revocation): immediate, not queued behind handlers. */
  close(info: CloseCodeInfo, cause: string): void {
    this.#apply({ type: 'close_requested', close: info, cause });
  }

  /** Drops the connection without a close handshake (after a drain timeout). */
  terminate(): void {
    this.#socket.terminate();
  }

  #takeToken(): boolean {
    const now = this.#deps.now();
    const tokens = refilled(this.#deps.limits.messageRate, this.#tokens, this.#tokensAt, now);
    this.#tokensAt = now;
    this.#tokens = tokens >= 1 ? tokens - 1 : tokens;
    return tokens >= 1;
  }

  #limitHit(limit: string, info: CloseCodeInfo): void {
    this.logger.warn({ limit, code: info.code }, 'limit.hit');
    this.#deps.observer?.limitHit?.(limit);
    this.#apply({ type: 'close_requested', close: info, cause: limit });
  }

  /**
   * Runs the event now when nothing of this socket is running or queued (the common case: no
   * promise, no microtask hop), else queues it behind what is. Only an event whose handling
   * returns a promise (a verification's follow-up, an async handler) occupies the socket.
   */
  #enqueue(event: ConnEvent): void {
    if (this.#busy === 0) {
      this.#busy++; // an enqueue from inside this run (none today: events come from the event loop) queues
      const pending = this.#run(event);
      if (pending === undefined) this.#busy--;
      else this.#more().chain = pending.then(() => this.#settled());
      return;
    }
    const occasional = this.#more();
    occasional.pending++;
    this.#busy++;
    occasional.chain = (occasional.chain ?? Promise.resolve())
      .then(() => {
        occasional.pending--;
        return this.#run(event);
      })
      .then(() => this.#settled());
  }

  #settled(): void {
    if (--this.#busy !== 0) return;
    const occasional = this.#occasional;
    if (occasional === undefined) return;
    occasional.chain = undefined;
    this.#tidy();
  }

  #more(): Occasional {
    return (this.#occasional ??= new Occasional());
  }

  /** Drops the occasional fields' object once all of them are empty again. */
  #tidy(): void {
    if (this.#occasional?.empty === true) this.#occasional = undefined;
  }

  #apply(event: ConnEvent): void {
    void this.#run(event);
  }

  /** Applies one event; synchronous unless an effect returns a promise. Never rejects. */
  #run(event: ConnEvent): Promise<void> | undefined {
    try {
      const before = this.#state;
      const { state, effects } = transition(before, event, this.#deps.now(), this.#deps.limits);
      if (state.phase !== before.phase) this.#deps.observer?.phaseChanged?.(before.phase, state.phase);
      this.#state = state;
      if (state.phase === 'authenticated' && before.phase === 'authenticated' && state.identity !== before.identity) {
        this.#deps.onIdentityChanged?.(this, state.identity);
      }
      for (let i = 0; i < effects.length; i++) {
        const pending = this.#perform(effects[i]!);
        if (pending !== undefined) return this.#finish(pending, effects.slice(i + 1), event);
      }
    } catch (error) {
      this.#internalError(error, event);
    }
    return undefined;
  }

  /** The effects after one that returned a promise, in order. */
  async #finish(pending: Promise<void>, rest: readonly Effect[], event: ConnEvent): Promise<void> {
    try {
      await pending;
      for (const effect of rest) await this.#perform(effect);
    } catch (error) {
      this.#internalError(error, event);
    }
  }

  #internalError(error: unknown, event: ConnEvent): void {
    // Our own code threw (client input is parsed without throwing): name and message are safe to log.
    const err = error instanceof Error ? { name: error.name, message: error.message.slice(0, 200) } : { name: typeof error };
    this.logger.error({ err, event: event.type }, 'ws.internal_error');
    if (this.#state.phase !== 'closed') {
      this.#apply({ type: 'close_requested', close: CloseCodes.internalError, cause: 'internal_error' });
    }
  }

  #perform(effect: Effect): Promise<void> | undefined {
    switch (effect.type) {
      case 'arm_auth_deadline':
        this.#more().deadline = setTimeout(() => this.#enqueue({ type: 'auth_deadline' }), this.#deps.limits.authDeadlineMs);
        return;
      case 'disarm_auth_deadline': {
        const occasional = this.#occasional;
        if (occasional === undefined) return;
        clearTimeout(occasional.deadline);
        occasional.deadline = undefined;
        this.#tidy();
        return;
      }
      case 'arm_session_timers':
        this.#armSessionTimers(effect.exp);
        return;
      case 'verify':
        this.#startVerification(effect.ticket, effect.purpose, effect.id);
        return;
      case 'send':
        this.#send(effect.message);
        return;
      case 'dispatch':
        // A close while an earlier queued message was being handled cancels the rest of the queue.
        if (this.#state.phase === 'closed') return;
        return dispatch(effect.message, this.#deps.handlers, this.#context());
      case 'admit':
        this.#startAdmission(effect.identity);
        return;
      case 'close':
        this.logger.info({ code: effect.code, cause: effect.cause }, 'ws.close');
        // Nothing more goes out after our close frame: out of every fan-out topic first.
        this.#leaveTopics();
        try {
          this.#socket.close(effect.code, effect.reason);
        } catch {
          // Already closing on the runtime's side: the close event still arrives.
        }
        this.#clearTimers();
        return;
      case 'audit':
        if (effect.event === 'auth.ok' && this.#state.phase === 'authenticated') {
          // From here on every line of this connection names its user.
          this.#sub = this.#state.identity.sub;
          this.logger.info({ exp: this.#state.identity.exp }, effect.event);
          return;
        }
        if (effect.level === 'warn') this.logger.warn(effect.fields ?? {}, effect.event);
        else this.logger.info(effect.fields ?? {}, effect.event);
        return;
    }
  }

  /** The verification, bounded by the verify timeout (the one deadline; the verifier gets its signal). */
  #startVerification(ticket: string, purpose: 'auth' | 'refresh', id: string | number | undefined): void {
    const { verifier, limits } = this.#deps;
    const request: VerifyRequest = { ticket, origin: this.#origin, ip: this.#ip };
    // Latency from the monotonic clock: an in-process verification takes well under a millisecond.
    const started = performance.now();
    void withDeadline<VerifyResult>(
      (signal) => verifier.verify(request, { signal }),
      { ms: limits.verifyTimeoutMs },
      () => ({ kind: 'unavailable', reason: 'timeout' }),
      () => ({ kind: 'unavailable', reason: 'verifier_error' }),
    ).then((result) => {
      const reason = result.kind === 'ok' ? 'ok' : result.reason;
      this.#deps.observer?.verified?.(result.kind, reason, (performance.now() - started) / 1000);
      this.#enqueue(purpose === 'refresh' ? { type: 'refresh_verified', result, id } : { type: 'verified', result });
    });
  }

  /** The per-user cap's answer for a verified identity. A failing store refuses (fails closed). */
  #startAdmission(identity: Identity): void {
    const admit = this.#deps.admit;
    if (admit === undefined) return this.#enqueue({ type: 'admitted' });
    void Promise.resolve()
      .then(() => admit(identity, this))
      .catch(() => CloseCodes.tryAgainLater)
      .then((refusal) => {
        if (refusal === null) return this.#enqueue({ type: 'admitted' });
        this.#deps.observer?.limitHit?.('user_connections');
        this.#enqueue({ type: 'admission_refused', close: refusal, limit: 'user_connections' });
      });
  }

  #armSessionTimers(exp: number): void {
    this.#disarmSessionTimers();
    const warningMs = this.#deps.limits.sessionWarningMs;
    this.#sessionExp = exp;
    if (warningMs > 0 && exp * 1000 - this.#deps.now() > warningMs) {
      this.#warningSecond = Math.floor((exp * 1000 - warningMs) / 1000);
    }
    this.#deps.sessionClock.add(this.#warningSecond ?? exp, this);
  }

  #disarmSessionTimers(): void {
    const second = this.#warningSecond ?? this.#sessionExp;
    if (second !== undefined) this.#deps.sessionClock.delete(second, this);
    this.#sessionExp = this.#warningSecond = undefined;
  }

  /** From the session clock: the warning or the end of the session is due (the state machine ignores stale ones). */
  sessionTick(now: number): void {
    const exp = this.#sessionExp;
    if (exp === undefined) return;
    if (now >= exp * 1000) {
      this.#disarmSessionTimers();
      this.#enqueue({ type: 'session_expired', exp });
    } else if (this.#warningSecond !== undefined && now >= this.#warningSecond * 1000) {
      this.#warningSecond = undefined;
      this.#deps.sessionClock.add(exp, this); // the warning's second is over: wait for the end
      this.#enqueue({ type: 'session_warning', exp });
    }
  }

  // --- HandlerContext: the connection is its own handlers' context (no per-socket closures) ---

  get connectionId(): string {
    return this.id;
  }

  get identity(): Identity {
    if (this.#state.phase !== 'authenticated') throw new Error('identity outside authenticated state');
    return this.#state.identity;
  }

  /** This connection's lines: conn, ip, origin (and sub once authenticated) merged into each. */
  get logger(): Logger {
    const fields = { conn: this.id, ip: this.#ip, origin: this.#origin };
    return new BoundLogger(this.#deps.logger, this.#sub === undefined ? fields : { ...fields, sub: this.#sub });
  }

  get closed(): boolean {
    return this.#closedNotified || this.#state.phase === 'closed';
  }

  send(message: OutboundMessage): void {
    this.#send(message);
  }

  onClose(callback: () => void): void {
    if (this.#closedNotified) callback();
    else (this.#more().closeCallbacks ??= []).push(callback);
  }

  #context(): HandlerContext {
    if (this.#state.phase !== 'authenticated') throw new Error('dispatch outside authenticated state');
    return this;
  }

  #send(message: OutboundMessage): void {
    if (this.#state.phase === 'closed') return;
    let outcome;
    const text = encode(message);
    try {
      outcome = this.#socket.send(text);
    } catch {
      return; // The socket is going away; its close event will settle the state.
    }
    if (typeof outcome === 'number') {
      this.#deps.observer?.messageOut?.(outcome); // written whole: nothing buffered, and the runtime counted the bytes
      return;
    }
    if (this.#deps.observer?.messageOut) this.#deps.observer.messageOut(utf8ByteLength(text));
    if (outcome === 'dropped' || (outcome === 'sent' && this.#socket.bufferedAmount() > this.#deps.limits.maxBufferedBytes)) {
      this.#slowConsumer();
    }
  }

  #slowConsumer(): void {
    this.#limitHit('send_buffer', CloseCodes.slowConsumer);
    // Our close frame waits behind everything the reader has not read: do not wait for its answer.
    this.#more().terminateTimer ??= setTimeout(() => this.#socket.terminate(), SLOW_CONSUMER_GRACE_MS);
  }

  // --- The runtime's fan-out (core/fanout.ts): channel deliveries sent to many sockets by one call ---

  /** Subscribes this socket to a runtime topic; false when it cannot (not authenticated, closing, or refused by the runtime). */
  joinTopic(topics: SocketTopics, topic: string): boolean {
    if (this.#state.phase !== 'authenticated' || this.#closedNotified) return false;
    const joined = this.#occasional?.joined;
    if (joined !== undefined && joined.topics !== topics) return false; // one runtime's topics per socket
    if (!topics.subscribe(this.#socket, topic)) return false;
    if (joined === undefined) this.#more().joined = { topics, names: [topic] };
    else joined.names.push(topic);
    return true;
  }

  leaveTopic(topics: SocketTopics, topic: string): void {
    const joined = this.#occasional?.joined;
    if (joined === undefined || joined.topics !== topics) return;
    const i = joined.names.indexOf(topic);
    if (i === -1) return;
    joined.names.splice(i, 1);
    topics.unsubscribe(this.#socket, topic);
  }

  #leaveTopics(): void {
    const occasional = this.#occasional;
    const joined = occasional?.joined;
    if (occasional === undefined || joined === undefined) return;
    occasional.joined = undefined;
    for (const name of joined.names) joined.topics.unsubscribe(this.#socket, name);
  }

  /** After a fan-out the runtime could not vouch for: a send buffer past the cap is a slow consumer, as after a send. */
  checkSendBuffer(): void {
    if (this.#state.phase === 'closed') return;
    if (this.#socket.bufferedAmount() > this.#deps.limits.maxBufferedBytes) this.#slowConsumer();
  }

  #clearTimers(): void {
    clearTimeout(this.#occasional?.deadline);
    this.#disarmSessionTimers();
  }

  #notifyClosed(): void {
    if (this.#closedNotified) return;
    this.#closedNotified = true;
    this.#leaveTopics();
    this.#clearTimers();
    const occasional = this.#occasional;
    clearTimeout(occasional?.terminateTimer);
    const callbacks = occasional?.closeCallbacks ?? [];
    if (occasional !== undefined) occasional.closeCallbacks = undefined;
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.logger.error({ err: error instanceof Error ? error.name : typeof error }, 'ws.close_callback_failed');
      }
    }
    this.#deps.onClosed(this);
  }
}
