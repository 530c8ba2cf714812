/**
 * The client's one state field. Every change goes through `set`, which refuses transitions the
 * life cycle does not have (a bug, not a runtime condition) and then notifies once.
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

export class StateMachine {
  #state: ClientState = 'connecting';
  readonly #notify: (state: ClientState, previous: ClientState) => void;

  constructor(notify: (state: ClientState, previous: ClientState) => void) {
    this.#notify = notify;
  }

  get state(): ClientState {
    return this.#state;
  }

  set(next: ClientState): void {
    const previous = this.#state;
    if (next === previous) return;
    if (!NEXT[previous].includes(next)) throw new Error(`hardened-ws client: no transition ${previous} → ${next}`);
    this.#state = next;
    this.#notify(next, previous);
  }
}
