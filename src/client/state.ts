/**
 * The client's life cycle as data: which state may follow which.
 *
 *   connecting ──socket open, auth sent──▶ authenticating ──auth.ok──▶ open
 *       │  ▲                                    │                       │
 *       │  └──────────── delay over ◀── reconnecting ◀── socket ended ──┘
 *       └──────── (any) ──terminal code, logout, close()──▶ closed
 */
import type { ClientState } from './types.ts';

const NEXT: Readonly<Record<ClientState, readonly ClientState[]>> = {
  connecting: ['authenticating', 'reconnecting', 'closed'],
  authenticating: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: [],
};

/**
 * The next state, checked: pure, like the server's connection machine. A transition the life cycle
 * does not have is a bug in the client, not a runtime condition, and throws.
 */
export function nextState(previous: ClientState, next: ClientState): ClientState {
  if (next !== previous && !NEXT[previous].includes(next)) throw new Error(`hardened-ws client: no transition ${previous} → ${next}`);
  return next;
}
