/**
 * Who may subscribe or publish to a channel: the claims (permissions.ts), or, in a namespace marked
 * `proxy`, the application's backend through the ChannelAuthorizer port (implemented by
 * src/hooks/channel-authorizer.ts). The channel handlers ask `decideAccess` and answer a refusal
 * with `refusalReply`; a backend that cannot answer is never an allow.
 */
import type { Identity } from '../auth/verifier.ts';
import type { ErrorReply } from '../protocol/messages.ts';
import { isAllowed, type ChannelAction } from './permissions.ts';

export type ChannelDecision =
  /** Allowed; `info` (a subscribe's, from the backend) is this connection's public info in the channel (presence, join). */
  | { readonly kind: 'allow'; readonly info?: Readonly<Record<string, unknown>> }
  /** Refused: by the claims (no reason), or by the backend with its own code and words. */
  | { readonly kind: 'deny'; readonly reason?: string; readonly message?: string }
  /** The backend could not decide (down, slow, failing, breaker open): refused, with when to try again if known. */
  | { readonly kind: 'unavailable'; readonly retryAfterMs?: number };

export interface AccessRequest {
  readonly action: ChannelAction;
  readonly channel: string;
  readonly identity: Identity;
  readonly connectionId: string;
  /** A publish's data (the backend may judge it). */
  readonly data?: unknown;
}

export interface ChannelAuthorizer {
  /** Whether the backend decides `action` on `channel` (its namespace is marked `proxy` for it). */
  decides(action: ChannelAction, channel: string): boolean;
  /** The backend's decision; never rejects. */
  authorize(request: AccessRequest): Promise<ChannelDecision>;
}

const ALLOW: ChannelDecision = Object.freeze({ kind: 'allow' });
const DENY: ChannelDecision = Object.freeze({ kind: 'deny' });

/** The backend's decision where it decides, the claims' elsewhere. Synchronous (no promise) for the claims. */
export function decideAccess(
  authorizer: ChannelAuthorizer | undefined,
  request: AccessRequest,
): ChannelDecision | Promise<ChannelDecision> {
  if (authorizer?.decides(request.action, request.channel)) return authorizer.authorize(request);
  return isAllowed(request.identity, request.action, request.channel) ? ALLOW : DENY;
}

/** The error reply for a refusal (`forbidden`, with the backend's reason; or `backend_unavailable`); null for an allow. */
export function refusalReply(decision: ChannelDecision, id: string | number | undefined): ErrorReply | null {
  const withId = id === undefined ? {} : { id };
  switch (decision.kind) {
    case 'allow':
      return null;
    case 'deny':
      return {
        type: 'error',
        ...withId,
        code: 'forbidden',
        ...(decision.reason === undefined ? {} : { reason: decision.reason }),
        ...(decision.message === undefined ? {} : { message: decision.message }),
      };
    case 'unavailable':
      return {
        type: 'error',
        ...withId,
        code: 'backend_unavailable',
        ...(decision.retryAfterMs === undefined ? {} : { retryAfterMs: decision.retryAfterMs }),
      };
  }
}
