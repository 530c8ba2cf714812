/**
 * The life of one admitted upgrade's connection slot: pending → open → released.
 *
 * Why acquire at admission and not in onOpen: the cap check and the acquisition must be one step,
 * or a burst of handshakes all pass the check before any of them opens, and the cap means nothing.
 * The cost is that a handshake can fail after admission (bad Sec-WebSocket-Key rejected by `ws`,
 * client gone) and then no onOpen/onClose ever comes. So a slot that is still pending after
 * `pendingTimeoutMs` lapses and is given back. Lapsed slots are swept lazily, on the next acquire,
 * from the injected clock: no timers (nothing keeps the process alive, tests need no fake timers),
 * and the only moment a leaked slot matters is when someone asks for one.
 */
import type { AcquireResult, ConnectionCounter } from './connection-counter.ts';

export interface Slot {
  readonly ip: string | null;
  /**
   * Call from onOpen. True: the slot now belongs to the socket until `release()`. False: it lapsed
   * and could not be taken again (the server filled up meanwhile): close the socket (1013).
   */
  open(): boolean;
  /** Call from onClose. Idempotent: Deno fires onClose twice, and a lapsed slot is already back. */
  release(): void;
}

type State = 'pending' | 'open' | 'lapsed' | 'released';

export class SlotTable {
  /** Pending slots in acquisition order; with one timeout, deadlines come in order too. */
  readonly #pending = new Map<SlotImpl, number>();

  constructor(
    readonly counter: ConnectionCounter,
    readonly pendingTimeoutMs: number,
    readonly now: () => number,
  ) {}

  /** Takes a slot for a freshly admitted upgrade, after giving back the lapsed ones. */
  tryAcquire(ip: string | null): { result: AcquireResult; slot?: Slot } {
    this.sweep();
    const result = this.counter.tryAcquire(ip);
    if (result !== 'ok') return { result };
    // The address's shared string, not this request's copy: the slot outlives the request.
    const slot = new SlotImpl(this, ip === null ? null : this.counter.shared(ip));
    this.#pending.set(slot, this.now() + this.pendingTimeoutMs);
    return { result, slot };
  }

  /** Gives back every pending slot whose deadline has passed. */
  sweep(): void {
    const now = this.now();
    for (const [slot, deadline] of this.#pending) {
      if (deadline > now) break;
      slot.lapse();
    }
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** @internal */
  forget(slot: SlotImpl): void {
    this.#pending.delete(slot);
  }
}

class SlotImpl implements Slot {
  #state: State = 'pending';

  constructor(
    readonly table: SlotTable,
    readonly ip: string | null,
  ) {}

  open(): boolean {
    if (this.#state === 'open') return true;
    if (this.#state === 'pending') {
      this.table.forget(this);
      this.#state = 'open';
      return true;
    }
    // A slot released on purpose stays released: re-taking it would leak it.
    if (this.#state === 'released') return false;
    // Lapsed: the handshake was slower than the timeout. Take a fresh slot if there is room.
    if (this.table.counter.tryAcquire(this.ip) !== 'ok') return false;
    this.#state = 'open';
    return true;
  }

  release(): void {
    if (this.#state === 'pending' || this.#state === 'open') this.table.counter.release(this.ip);
    if (this.#state === 'pending') this.table.forget(this);
    this.#state = 'released';
  }

  /** @internal Called by the sweep. */
  lapse(): void {
    if (this.#state !== 'pending') return;
    this.table.forget(this);
    this.table.counter.release(this.ip);
    this.#state = 'lapsed';
  }
}
