/**
 * The connection machine: pure data in, data out. No I/O, no timers, no clock (time arrives as
 * `now`). The driver (connection.ts) performs the effects. This function is the only place a
 * connection changes state — admission and refresh included — which is what makes every close
 * path testable without sockets.
 *
 *   awaiting_ticket --auth frame--> verifying --ok--> admitting --admitted--> authenticated <-+
 *          \                            \                \                    |  \--refresh--+
 *           \                            \                \--refused           \--expired, revoked, limits--> closed
 *            \--bad first frame, deadline--\--rejected/unavailable/overflow-------------------------> closed
 *
 * Frames that arrive while verifying or admitting wait in a bounded queue and are handled, in
 * order, once authenticated. An authenticated text frame is parsed here: `refresh` is the
 * protocol's own and handled here; everything else is dispatched to the handlers.
 */
import { CloseCodes, type CloseCodeInfo } from '../protocol/close-codes.ts';
import type { Limits } from './limits.ts';
import type { Frame, InboundMessage, OutboundMessage } from '../protocol/messages.ts';
import { withRetryHint } from '../protocol/close-reason.ts';
import { parseAuthMessage, parseMessage, type ParseResult } from '../protocol/parse.ts';
import type { Identity, VerifyResult } from '../auth/verifier.ts';

/** Frames received before `auth.ok`, bounded by `maxQueuedFrames` and `maxQueuedBytes`. */
interface Queue {
  readonly queue: readonly Frame[];
  readonly queuedBytes: number;
}

export type ConnState =
  | { readonly phase: 'awaiting_ticket' }
  | ({ readonly phase: 'verifying' } & Queue)
  | ({ readonly phase: 'admitting'; readonly identity: Identity } & Queue)
  | { readonly phase: 'authenticated'; readonly identity: Identity; readonly refreshing: boolean }
  | { readonly phase: 'closed'; readonly code: number };

export type ConnEvent =
  | { readonly type: 'open' }
  /** `parsed`: the frame's parse, when the driver's fast path has read it already (`parseForHandlers`). */
  | { readonly type: 'frame'; readonly frame: Frame; readonly parsed?: ParseResult }
  | { readonly type: 'verified'; readonly result: VerifyResult }
  /** The per-user cap took this socket. */
  | { readonly type: 'admitted' }
  /** The per-user cap (or its store) refused this socket: `limit` names the limit for the audit line. */
  | { readonly type: 'admission_refused'; readonly close: CloseCodeInfo; readonly limit: string }
  | { readonly type: 'auth_deadline' }
  | { readonly type: 'close_requested'; readonly close: CloseCodeInfo; readonly cause: string }
  | { readonly type: 'peer_closed'; readonly code: number }
  | { readonly type: 'refresh_verified'; readonly result: VerifyResult; readonly id?: string | number }
  /** Timers armed for a given `exp`; stale ones (the session was refreshed since) are ignored. */
  | { readonly type: 'session_warning'; readonly exp: number }
  | { readonly type: 'session_expired'; readonly exp: number };

export type Effect =
  | { readonly type: 'arm_auth_deadline' }
  | { readonly type: 'disarm_auth_deadline' }
  | { readonly type: 'verify'; readonly ticket: string; readonly purpose: 'auth' | 'refresh'; readonly id?: string | number }
  /** Ask the per-user cap for a place; the answer comes back as `admitted` or `admission_refused`. */
  | { readonly type: 'admit'; readonly identity: Identity }
  /** Warn before and close at `exp` (epoch seconds). */
  | { readonly type: 'arm_session_timers'; readonly exp: number }
  | { readonly type: 'send'; readonly message: OutboundMessage }
  | { readonly type: 'dispatch'; readonly message: InboundMessage }
  | { readonly type: 'close'; readonly code: number; readonly reason: string; readonly cause: string }
  | { readonly type: 'audit'; readonly event: string; readonly fields?: Readonly<Record<string, unknown>>; readonly level?: 'warn' };

export interface Transition {
  readonly state: ConnState;
  readonly effects: readonly Effect[];
}

export const initialState: ConnState = { phase: 'awaiting_ticket' };

const stay = (state: ConnState): Transition => ({ state, effects: [] });

function closeWith(info: CloseCodeInfo, cause: string, ...before: Effect[]): Transition {
  return {
    state: { phase: 'closed', code: info.code },
    effects: [...before, { type: 'close', code: info.code, reason: info.reason, cause }],
  };
}

export function transition(state: ConnState, event: ConnEvent, now: number, limits: Limits): Transition {
  if (state.phase === 'closed') return stay(state);

  switch (event.type) {
    case 'open':
      return state.phase === 'awaiting_ticket' ? { state, effects: [{ type: 'arm_auth_deadline' }] } : stay(state);
    case 'peer_closed':
      return { state: { phase: 'closed', code: event.code }, effects: [{ type: 'disarm_auth_deadline' }] };
    case 'close_requested':
      return closeWith(event.close, event.cause, { type: 'disarm_auth_deadline' });
    case 'auth_deadline':
      return state.phase === 'awaiting_ticket' ? closeWith(CloseCodes.authTimeout, 'auth_deadline') : stay(state);
    case 'frame':
      return onFrame(state, event.frame, limits, event.parsed);
    case 'verified':
      return state.phase === 'verifying' ? onVerified(state, event.result, now) : stay(state);
    case 'admitted':
      return state.phase === 'admitting' ? onAdmitted(state, limits) : stay(state);
    case 'admission_refused':
      if (state.phase !== 'admitting') return stay(state);
      return closeWith(event.close, 'admission_refused', {
        type: 'audit',
        event: 'limit.hit',
        fields: { limit: event.limit, code: event.close.code },
        level: 'warn',
      });
    case 'refresh_verified':
      return state.phase === 'authenticated' ? onRefreshVerified(state, event.result, event.id, now) : stay(state);
    case 'session_warning':
      if (state.phase !== 'authenticated' || state.identity.exp !== event.exp) return stay(state);
      return { state, effects: [{ type: 'send', message: { type: 'session.expiring', in: Math.max(0, event.exp * 1000 - now) } }] };
    case 'session_expired':
      if (state.phase !== 'authenticated' || state.identity.exp !== event.exp) return stay(state);
      return closeWith(CloseCodes.sessionExpired, 'session_expired');
  }
}

function onFrame(state: Exclude<ConnState, { phase: 'closed' }>, frame: Frame, limits: Limits, parsed?: ParseResult): Transition {
  switch (state.phase) {
    case 'awaiting_ticket': {
      const deadline: Effect = { type: 'disarm_auth_deadline' };
      if (frame.kind !== 'text') return closeWith(CloseCodes.policyViolation, 'binary_auth_frame', deadline);
      if (frame.bytes > limits.maxAuthFrameBytes) return closeWith(CloseCodes.tooBig, 'auth_frame_too_big', deadline);
      const ticket = parseAuthMessage(frame.data);
      if (ticket === null) return closeWith(CloseCodes.policyViolation, 'invalid_auth_frame', deadline);
      return {
        state: { phase: 'verifying', queue: [], queuedBytes: 0 },
        effects: [deadline, { type: 'verify', ticket, purpose: 'auth' }],
      };
    }
    case 'verifying':
    case 'admitting': {
      if (frame.bytes > limits.maxMessageBytes) return closeWith(CloseCodes.tooBig, 'message_too_big');
      const queuedBytes = state.queuedBytes + frame.bytes;
      if (state.queue.length >= limits.maxQueuedFrames || queuedBytes > limits.maxQueuedBytes) {
        return closeWith(CloseCodes.policyViolation, 'queue_overflow');
      }
      return stay({ ...state, queue: [...state.queue, frame], queuedBytes });
    }
    case 'authenticated':
      if (frame.bytes > limits.maxMessageBytes) return closeWith(CloseCodes.tooBig, 'message_too_big');
      return onMessage(state, frame, parsed);
  }
}

const reply = (state: Authenticated, message: OutboundMessage): Transition => ({ state, effects: [{ type: 'send', message }] });

/** An authenticated frame: an error reply, the protocol's own `refresh`, or a message for the handlers. */
function onMessage(state: Authenticated, frame: Frame, parsed?: ParseResult): Transition {
  if (frame.kind !== 'text') return reply(state, { type: 'error', code: 'binary_unsupported' });
  parsed ??= parseMessage(frame.data);
  if (!parsed.ok) return reply(state, { type: 'error', id: parsed.id, code: parsed.code });
  const { message } = parsed;
  if (isForHandlers(message)) return { state, effects: [{ type: 'dispatch', message }] };
  return onRefreshRequested(state, typeof message.ticket === 'string' ? message.ticket : null, message.id);
}

/** `refresh` is reserved by the protocol: a handler table cannot replace it. Every other message is the handlers'. */
const isForHandlers = (message: InboundMessage): boolean => message.type !== 'refresh';

/**
 * The driver's per-message fast path, for a socket with nothing queued: an authenticated text frame
 * within the size limit, parsed; undefined for any other frame. A parse that is ok and for the
 * handlers is dispatched as is — what `transition` decides for it (the `dispatch` effect, state
 * unchanged) without building a Transition per message. Any other parse goes back in the frame
 * event (`parsed`), so that nothing is parsed twice.
 */
export function parseForHandlers(state: ConnState, frame: Frame, limits: Limits): ParseResult | undefined {
  if (state.phase !== 'authenticated' || frame.kind !== 'text' || frame.bytes > limits.maxMessageBytes) return undefined;
  return parseMessage(frame.data);
}

/** The message of a fast-path parse that the handlers get, or undefined. */
export const handlersMessage = (parsed: ParseResult): InboundMessage | undefined =>
  parsed.ok && isForHandlers(parsed.message) ? parsed.message : undefined;

function onVerified(state: Extract<ConnState, { phase: 'verifying' }>, result: VerifyResult, now: number): Transition {
  if (result.kind === 'unavailable') {
    return closeWith(withRetryHint(CloseCodes.tryAgainLater, result.retryAfterMs), 'auth_unavailable', {
      type: 'audit',
      event: 'auth.unavailable',
      fields: { reason: result.reason, discarded: state.queue.length },
    });
  }
  if (result.kind === 'rejected' || result.identity.exp * 1000 <= now) {
    const reason = result.kind === 'rejected' ? result.reason : 'session_expired';
    return closeWith(CloseCodes.ticketRejected, 'ticket_rejected', {
      type: 'audit',
      event: 'auth.rejected',
      fields: { reason, discarded: state.queue.length },
    });
  }
  // Before `auth.ok`: a socket the per-user cap refuses never sees one.
  const { identity } = result;
  return {
    state: { phase: 'admitting', identity, queue: state.queue, queuedBytes: state.queuedBytes },
    effects: [{ type: 'admit', identity }],
  };
}

/** In: `auth.ok`, the session timers, then what queued up meanwhile, in order, as if it arrived now. */
function onAdmitted(state: Extract<ConnState, { phase: 'admitting' }>, limits: Limits): Transition {
  const { identity } = state;
  let current: ConnState = { phase: 'authenticated', identity, refreshing: false };
  const effects: Effect[] = [
    { type: 'audit', event: 'auth.ok', fields: { sub: identity.sub, exp: identity.exp } },
    { type: 'send', message: { type: 'auth.ok', sub: identity.sub, exp: identity.exp } },
    { type: 'arm_session_timers', exp: identity.exp },
  ];
  for (const frame of state.queue) {
    if (current.phase === 'closed') break;
    const next = onFrame(current as Authenticated, frame, limits);
    current = next.state;
    effects.push(...next.effects);
  }
  return { state: current, effects };
}

type Authenticated = Extract<ConnState, { phase: 'authenticated' }>;

function onRefreshRequested(state: Authenticated, ticket: string | null, id: string | number | undefined): Transition {
  if (ticket === null) return { state, effects: [{ type: 'send', message: { type: 'error', id, code: 'invalid_message' } }] };
  if (state.refreshing) return { state, effects: [{ type: 'send', message: { type: 'error', id, code: 'refresh_in_progress' } }] };
  return { state: { ...state, refreshing: true }, effects: [{ type: 'verify', ticket, purpose: 'refresh', id }] };
}

/** A refresh extends the session only for the same user; a ticket for someone else ends the socket. */
function onRefreshVerified(state: Authenticated, result: VerifyResult, id: string | number | undefined, now: number): Transition {
  const settled: Authenticated = { ...state, refreshing: false };
  if (result.kind === 'unavailable') {
    return { state: settled, effects: [{ type: 'send', message: { type: 'error', id, code: 'refresh_unavailable' } }] };
  }
  if (result.kind === 'rejected' || result.identity.exp * 1000 <= now) {
    const reason = result.kind === 'rejected' ? result.reason : 'session_expired';
    return {
      state: settled,
      effects: [
        { type: 'audit', event: 'refresh.rejected', fields: { reason } },
        { type: 'send', message: { type: 'error', id, code: 'refresh_rejected' } },
      ],
    };
  }
  if (result.identity.sub !== state.identity.sub) {
    return closeWith(CloseCodes.ticketRejected, 'refresh_sub_mismatch', {
      type: 'audit',
      event: 'refresh.rejected',
      fields: { reason: 'sub_mismatch' },
    });
  }
  const identity = result.identity;
  return {
    state: { phase: 'authenticated', identity, refreshing: false },
    effects: [
      { type: 'audit', event: 'refresh.ok', fields: { exp: identity.exp } },
      { type: 'send', message: { type: 'session.refreshed', id, exp: identity.exp } },
      { type: 'arm_session_timers', exp: identity.exp },
    ],
  };
}
