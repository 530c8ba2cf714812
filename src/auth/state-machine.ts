/**
 * The connection's auth state machine: pure data in, data out. No I/O, no timers, no clock
 * (time arrives as `now`). The connection driver performs the effects. This function is the only
 * place a connection changes state, which is what makes every close path testable without sockets.
 *
 *   awaiting_ticket --auth frame--> verifying --ok--> authenticated
 *          \                            \--rejected/unavailable/overflow--> closed
 *           \--bad first frame, deadline, peer close-----------------------> closed
 */
import { CloseCodes, type CloseCodeInfo } from '../core/close-codes.ts';
import type { Limits } from '../core/limits.ts';
import type { Frame, OutboundMessage } from '../protocol/messages.ts';
import { parseAuthMessage } from '../protocol/parse.ts';
import type { Identity, VerifyResult } from './verifier.ts';

export type ConnState =
  | { readonly phase: 'awaiting_ticket' }
  | { readonly phase: 'verifying'; readonly queue: readonly Frame[]; readonly queuedBytes: number }
  | { readonly phase: 'authenticated'; readonly identity: Identity }
  | { readonly phase: 'closed'; readonly code: number };

export type ConnEvent =
  | { readonly type: 'open' }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'verified'; readonly result: VerifyResult }
  | { readonly type: 'auth_deadline' }
  | { readonly type: 'close_requested'; readonly close: CloseCodeInfo; readonly cause: string }
  | { readonly type: 'peer_closed'; readonly code: number };

export type Effect =
  | { readonly type: 'arm_auth_deadline' }
  | { readonly type: 'disarm_auth_deadline' }
  | { readonly type: 'verify'; readonly ticket: string }
  | { readonly type: 'send'; readonly message: OutboundMessage }
  | { readonly type: 'dispatch'; readonly frame: Frame }
  | { readonly type: 'close'; readonly code: number; readonly reason: string; readonly cause: string }
  | { readonly type: 'audit'; readonly event: string; readonly fields?: Readonly<Record<string, unknown>> };

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
      return onFrame(state, event.frame, limits);
    case 'verified':
      return state.phase === 'verifying' ? onVerified(state, event.result, now) : stay(state);
  }
}

function onFrame(state: Exclude<ConnState, { phase: 'closed' }>, frame: Frame, limits: Limits): Transition {
  switch (state.phase) {
    case 'awaiting_ticket': {
      const deadline: Effect = { type: 'disarm_auth_deadline' };
      if (frame.kind !== 'text') return closeWith(CloseCodes.policyViolation, 'binary_auth_frame', deadline);
      if (frame.bytes > limits.maxAuthFrameBytes) return closeWith(CloseCodes.tooBig, 'auth_frame_too_big', deadline);
      const ticket = parseAuthMessage(frame.data);
      if (ticket === null) return closeWith(CloseCodes.policyViolation, 'invalid_auth_frame', deadline);
      return {
        state: { phase: 'verifying', queue: [], queuedBytes: 0 },
        effects: [deadline, { type: 'verify', ticket }],
      };
    }
    case 'verifying': {
      if (frame.bytes > limits.maxMessageBytes) return closeWith(CloseCodes.tooBig, 'message_too_big');
      const queuedBytes = state.queuedBytes + frame.bytes;
      if (state.queue.length >= limits.maxQueuedFrames || queuedBytes > limits.maxQueuedBytes) {
        return closeWith(CloseCodes.policyViolation, 'queue_overflow');
      }
      return stay({ phase: 'verifying', queue: [...state.queue, frame], queuedBytes });
    }
    case 'authenticated':
      if (frame.bytes > limits.maxMessageBytes) return closeWith(CloseCodes.tooBig, 'message_too_big');
      return { state, effects: [{ type: 'dispatch', frame }] };
  }
}

function onVerified(state: Extract<ConnState, { phase: 'verifying' }>, result: VerifyResult, now: number): Transition {
  if (result.kind === 'unavailable') {
    return closeWith(CloseCodes.tryAgainLater, 'auth_unavailable', {
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
  const { identity } = result;
  return {
    state: { phase: 'authenticated', identity },
    effects: [
      { type: 'audit', event: 'auth.ok', fields: { sub: identity.sub, exp: identity.exp } },
      { type: 'send', message: { type: 'auth.ok', sub: identity.sub, exp: identity.exp } },
      ...state.queue.map((frame): Effect => ({ type: 'dispatch', frame })),
    ],
  };
}
