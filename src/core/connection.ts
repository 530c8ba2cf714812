/**
 * The per-connection driver: feeds socket events to the pure state machine and performs the
 * effects it returns. Events of one socket are handled strictly one after another on a promise
 * chain, because Hono does not await `onMessage`: without it, messages would overtake the
 * pending verification or a slow handler.
 */
import { transition, initialState, type ConnEvent, type ConnState, type Effect } from '../auth/state-machine.ts';
import type { Verifier, VerifyRequest, VerifyResult } from '../auth/verifier.ts';
import type { Frame, OutboundMessage } from '../protocol/messages.ts';
import { encode } from '../protocol/encode.ts';
import { CloseCodes, type CloseCodeInfo } from './close-codes.ts';
import { dispatch } from './dispatch.ts';
import type { HandlerContext, Handlers } from './handlers.ts';
import type { Limits } from './limits.ts';
import type { Logger } from './logger.ts';

/** The two things the driver does to a socket; runtimes differ below this line. */
export interface SocketPort {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface ConnectionDeps {
  readonly id: string;
  readonly socket: SocketPort;
  readonly verifier: Verifier;
  readonly handlers: Handlers;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly origin: string | null;
  readonly ip: string | null;
  readonly now: () => number;
  /** Called once, when the runtime reports the socket closed (whoever started the close). */
  readonly onClosed: (connection: Connection) => void;
}

export class Connection {
  readonly id: string;
  #state: ConnState = initialState;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #closedNotified = false;
  #handlerContext: HandlerContext | undefined;
  #logger: Logger;
  readonly #deps: ConnectionDeps;

  constructor(deps: ConnectionDeps) {
    this.#deps = deps;
    this.id = deps.id;
    this.#logger = deps.logger;
  }

  get state(): ConnState {
    return this.#state;
  }

  open(): void {
    this.#apply({ type: 'open' });
  }

  receive(frame: Frame): void {
    if (this.#state.phase === 'closed') return;
    if (this.#pending >= this.#deps.limits.maxPendingEvents) {
      this.#apply({ type: 'close_requested', close: CloseCodes.policyViolation, cause: 'too_many_pending' });
      return;
    }
    this.#enqueue({ type: 'frame', frame });
  }

  /** The socket closed (either side). Idempotent: Deno fires close twice. */
  peerClosed(code: number): void {
    if (this.#state.phase !== 'closed') {
      this.#logger.info({ code, phase: this.#state.phase }, 'ws.closed_by_peer');
    }
    this.#apply({ type: 'peer_closed', code });
    this.#notifyClosed();
  }

  /** Server-initiated close (shutdown, revocation): immediate, not queued behind handlers. */
  close(info: CloseCodeInfo, cause: string): void {
    this.#apply({ type: 'close_requested', close: info, cause });
  }

  #enqueue(event: ConnEvent): void {
    this.#pending++;
    this.#chain = this.#chain.then(async () => {
      this.#pending--;
      await this.#applyAndWait(event);
    });
  }

  #apply(event: ConnEvent): void {
    this.#applyAndWait(event).catch(() => {});
  }

  async #applyAndWait(event: ConnEvent): Promise<void> {
    try {
      const { state, effects } = transition(this.#state, event, this.#deps.now(), this.#deps.limits);
      this.#state = state;
      for (const effect of effects) await this.#perform(effect);
    } catch (error) {
      // Our own code threw (client input is parsed without throwing): name and message are safe to log.
      const err = error instanceof Error ? { name: error.name, message: error.message.slice(0, 200) } : { name: typeof error };
      this.#logger.error({ err, event: event.type }, 'ws.internal_error');
      if (this.#state.phase !== 'closed') {
        this.#apply({ type: 'close_requested', close: CloseCodes.internalError, cause: 'internal_error' });
      }
    }
  }

  async #perform(effect: Effect): Promise<void> {
    switch (effect.type) {
      case 'arm_auth_deadline':
        this.#deadline = setTimeout(() => this.#enqueue({ type: 'auth_deadline' }), this.#deps.limits.authDeadlineMs);
        return;
      case 'disarm_auth_deadline':
        clearTimeout(this.#deadline);
        this.#deadline = undefined;
        return;
      case 'verify':
        this.#startVerification(effect.ticket);
        return;
      case 'send':
        this.#send(effect.message);
        return;
      case 'dispatch':
        // A close while an earlier queued message was being handled cancels the rest of the queue.
        if (this.#state.phase === 'closed') return;
        await dispatch(effect.frame, this.#deps.handlers, this.#context());
        return;
      case 'close':
        this.#logger.info({ code: effect.code, cause: effect.cause }, 'ws.close');
        try {
          this.#deps.socket.close(effect.code, effect.reason);
        } catch {
          // Already closing on the runtime's side: the close event still arrives.
        }
        clearTimeout(this.#deadline);
        return;
      case 'audit':
        if (effect.event === 'auth.ok' && this.#state.phase === 'authenticated') {
          // From here on every line of this connection names its user.
          this.#logger = this.#logger.child({ sub: this.#state.identity.sub });
          this.#logger.info({ exp: this.#state.identity.exp }, effect.event);
          return;
        }
        this.#logger.info({ ...effect.fields }, effect.event);
        return;
    }
  }

  #startVerification(ticket: string): void {
    const { verifier, limits, origin, ip } = this.#deps;
    const request: VerifyRequest = { ticket, origin, ip };
    verifyWithin(verifier, request, limits.verifyTimeoutMs).then((result) => {
      this.#enqueue({ type: 'verified', result });
    });
  }

  #context(): HandlerContext {
    if (this.#handlerContext === undefined) {
      if (this.#state.phase !== 'authenticated') throw new Error('dispatch outside authenticated state');
      this.#handlerContext = {
        connectionId: this.id,
        identity: this.#state.identity,
        logger: this.#logger,
        send: (message) => this.#send(message),
      };
    }
    return this.#handlerContext;
  }

  #send(message: OutboundMessage): void {
    if (this.#state.phase === 'closed') return;
    try {
      this.#deps.socket.send(encode(message));
    } catch {
      // The socket is going away; its close event will settle the state.
    }
  }

  #notifyClosed(): void {
    if (this.#closedNotified) return;
    this.#closedNotified = true;
    clearTimeout(this.#deadline);
    this.#deps.onClosed(this);
  }
}

/** Any verifier, bounded in time and never throwing: every failure is `unavailable` (fail closed). */
async function verifyWithin(verifier: Verifier, request: VerifyRequest, timeoutMs: number): Promise<VerifyResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<VerifyResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'unavailable', reason: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([
      // Promise.resolve().then: a verifier that throws synchronously fails closed too.
      Promise.resolve()
        .then(() => verifier.verify(request))
        .catch((): VerifyResult => ({ kind: 'unavailable', reason: 'verifier_error' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
